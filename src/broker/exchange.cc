#include "broker/exchange.h"

#include <algorithm>

#include "broker/policy.h"
#include "broker/routing/headers_match.h"

namespace pulse::broker {

std::optional<ExchangeType> parse_exchange_type(std::string_view s) {
  if (s == "direct") return ExchangeType::kDirect;
  if (s == "fanout") return ExchangeType::kFanout;
  if (s == "topic") return ExchangeType::kTopic;
  if (s == "headers") return ExchangeType::kHeaders;
  return std::nullopt;
}

const char* exchange_type_name(ExchangeType t) {
  switch (t) {
    case ExchangeType::kDirect:
      return "direct";
    case ExchangeType::kFanout:
      return "fanout";
    case ExchangeType::kTopic:
      return "topic";
    case ExchangeType::kHeaders:
      return "headers";
  }
  return "direct";
}

Exchange::Exchange(std::string name, ExchangeType type, bool durable, bool auto_delete,
                   bool internal, amqp::FieldTable arguments)
    : name_(std::move(name)),
      type_(type),
      durable_(durable),
      auto_delete_(auto_delete),
      internal_(internal),
      arguments_(std::move(arguments)),
      alternate_(effective_alternate_exchange(arguments_, nullptr)) {}

void Exchange::set_policy(std::shared_ptr<const Policy> policy) {
  policy_ = std::move(policy);
  // The default exchange routes by queue name only and never uses an alternate exchange,
  // even when a policy matches it (RabbitMQ's rabbit_exchange:route).
  alternate_ =
      name_.empty() ? std::nullopt : effective_alternate_exchange(arguments_, policy_.get());
}

size_t Exchange::same_key_hash(const Destination& d, std::string_view key) {
  const size_t h = std::hash<std::string_view>{}(d.name) ^ (d.is_exchange ? 0x9e3779b9u : 0);
  return h * 31 + std::hash<std::string_view>{}(key);
}

void Exchange::index(size_t i) {
  const Binding& b = bindings_[i];
  same_key_[same_key_hash(b.destination, b.routing_key)].push_back(i);
  if (type_ == ExchangeType::kDirect) direct_index_[b.routing_key].push_back(i);
  if (type_ == ExchangeType::kTopic) topic_index_.add(b.routing_key, i);
}

bool Exchange::add_binding(Binding b) {
  if (auto it = same_key_.find(same_key_hash(b.destination, b.routing_key));
      it != same_key_.end()) {
    for (size_t i : it->second)
      if (bindings_[i].same_as(b.destination, b.routing_key, b.arguments)) return false;
  }
  bindings_.push_back(std::move(b));
  index(bindings_.size() - 1);
  if (type_ == ExchangeType::kTopic) clear_topic_cache();
  return true;
}

bool Exchange::remove_binding(const Destination& d, std::string_view key,
                              const amqp::FieldTable& args) {
  const auto same = same_key_.find(same_key_hash(d, key));
  if (same == same_key_.end()) return false;
  const auto pos = std::find_if(same->second.begin(), same->second.end(),
                                [&](size_t i) { return bindings_[i].same_as(d, key, args); });
  if (pos == same->second.end()) return false;
  bindings_.erase(bindings_.begin() + static_cast<ptrdiff_t>(*pos));
  rebuild_index();
  return true;
}

void Exchange::remove_bindings_to(const Destination& d) {
  auto n = bindings_.size();
  std::erase_if(bindings_, [&](const Binding& b) { return b.destination == d; });
  if (bindings_.size() != n) rebuild_index();
}

void Exchange::rebuild_index() {
  direct_index_.clear();
  same_key_.clear();
  topic_index_ = TopicTrie<size_t>();
  clear_topic_cache();
  for (size_t i = 0; i < bindings_.size(); ++i) index(i);
}

void Exchange::route(const Message& msg, std::string_view routing_key,
                     std::vector<const Destination*>& out) const {
  switch (type_) {
    case ExchangeType::kDirect: {
      auto it = direct_index_.find(routing_key);
      if (it != direct_index_.end())
        for (size_t i : it->second) out.push_back(&bindings_[i].destination);
      break;
    }
    case ExchangeType::kFanout:
      for (const auto& b : bindings_) out.push_back(&b.destination);
      break;
    case ExchangeType::kTopic:
      for (size_t i : route_topic(routing_key)) out.push_back(&bindings_[i].destination);
      break;
    case ExchangeType::kHeaders: {
      const amqp::FieldTable* headers =
          msg.has(amqp::BasicProperties::kHeaders) ? &msg.properties().headers : nullptr;
      for (const auto& b : bindings_)
        if (headers_match(b.arguments, headers)) out.push_back(&b.destination);
      break;
    }
  }
}

void Exchange::clear_topic_cache() {
  topic_cache_.clear();
  topic_cache_matches_ = 0;
  topic_cache_hits_ = 0;
  topic_cache_pause_ = 0;
}

const std::vector<size_t>& Exchange::route_topic(std::string_view routing_key) const {
  match_scratch_.clear();
  if (topic_cache_pause_ > 0) {
    --topic_cache_pause_;
    topic_index_.match(routing_key, match_scratch_);
    return match_scratch_;
  }
  if (auto it = topic_cache_.find(routing_key); it != topic_cache_.end()) {
    ++topic_cache_hits_;
    return it->second;
  }
  topic_index_.match(routing_key, match_scratch_);
  if (topic_cache_.size() >= kTopicCacheMaxKeys ||
      topic_cache_matches_ + match_scratch_.size() > kTopicCacheMaxMatches) {
    // Full. Fewer hits than keys means keys are rarely reused: stop caching for a while.
    const bool churning = topic_cache_hits_ < topic_cache_.size();
    topic_cache_.clear();
    topic_cache_matches_ = 0;
    topic_cache_hits_ = 0;
    if (churning) {
      topic_cache_pause_ = 16 * kTopicCacheMaxKeys;
      return match_scratch_;
    }
  }
  if (match_scratch_.size() > kTopicCacheMaxMatches) return match_scratch_;
  topic_cache_matches_ += match_scratch_.size();
  return topic_cache_.emplace(std::string(routing_key), match_scratch_).first->second;
}

}  // namespace pulse::broker
