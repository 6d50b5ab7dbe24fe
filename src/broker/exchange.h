#pragma once
// Exchanges and their bindings. route() collects the destinations (queues or exchanges) a
// message goes to; the vhost follows exchange-to-exchange hops.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "amqp/field_table.h"
#include "broker/message.h"
#include "broker/routing/topic_trie.h"

namespace pulse::broker {

class Policy;

enum class ExchangeType { kDirect, kFanout, kTopic, kHeaders };
std::optional<ExchangeType> parse_exchange_type(std::string_view s);
const char* exchange_type_name(ExchangeType t);

struct Destination {
  bool is_exchange = false;
  std::string name;
  bool operator==(const Destination&) const = default;
};

struct Binding {
  std::string source;
  Destination destination;
  std::string routing_key;
  amqp::FieldTable arguments;
  bool same_as(const Destination& d, std::string_view key, const amqp::FieldTable& args) const {
    return destination == d && routing_key == key && arguments == args;
  }
};

// Messages published to an exchange and the queue copies routed out of it (RabbitMQ's
// publish_in / publish_out), for the management API; plain increments on the loop thread.
struct ExchangeCounters {
  uint64_t publish_in = 0, publish_out = 0;
};

class Exchange {
 public:
  Exchange(std::string name, ExchangeType type, bool durable, bool auto_delete, bool internal,
           amqp::FieldTable arguments);

  const std::string& name() const { return name_; }
  ExchangeType type() const { return type_; }
  bool durable() const { return durable_; }
  bool auto_delete() const { return auto_delete_; }
  bool internal() const { return internal_; }
  const amqp::FieldTable& arguments() const { return arguments_; }
  // Effective: the alternate-exchange argument, else the policy's (see policy.h).
  const std::optional<std::string>& alternate_exchange() const { return alternate_; }
  const std::shared_ptr<const Policy>& policy() const { return policy_; }
  // The policy in force (null: none); recomputes the alternate exchange.
  void set_policy(std::shared_ptr<const Policy> policy);
  const std::vector<Binding>& bindings() const { return bindings_; }
  const ExchangeCounters& counters() const { return counters_; }
  void count_publish(size_t queues) {
    ++counters_.publish_in;
    counters_.publish_out += queues;
  }
  bool has_bindings() const { return !bindings_.empty(); }

  // False when an identical binding exists already.
  bool add_binding(Binding b);
  bool remove_binding(const Destination& d, std::string_view key, const amqp::FieldTable& args);
  // Drops every binding to `d` (its queue or exchange was deleted).
  void remove_bindings_to(const Destination& d);

  void route(const Message& msg, std::string_view routing_key,
             std::vector<const Destination*>& out) const;

  // Topic routes memoised by routing key (see route_topic); exposed for tests.
  size_t topic_route_cache_size() const { return topic_cache_.size(); }
  static constexpr size_t kTopicCacheMaxKeys = 1024;
  static constexpr size_t kTopicCacheMaxMatches = 64 * 1024;

 private:
  void rebuild_index();
  const std::vector<size_t>& route_topic(std::string_view routing_key) const;
  void clear_topic_cache();

  std::string name_;
  ExchangeType type_;
  bool durable_, auto_delete_, internal_;
  amqp::FieldTable arguments_;
  std::optional<std::string> alternate_;
  std::shared_ptr<const Policy> policy_;
  std::vector<Binding> bindings_;
  ExchangeCounters counters_;
  // Indexes hold positions in bindings_; they are rebuilt when a binding is removed.
  // Transparent, so a publish looks its routing key up without building a std::string.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<size_t>, KeyHash, std::equal_to<>> direct_index_;
  // Hash of (destination, routing key) -> positions: a new binding is checked against the few
  // of the same destination and key, not against every binding (50,000 pipelined queue.bind
  // took 9 s, quadratic).
  std::unordered_map<size_t, std::vector<size_t>> same_key_;
  static size_t same_key_hash(const Destination& d, std::string_view key);
  void index(size_t position);
  TopicTrie<size_t> topic_index_;
  mutable std::vector<size_t> match_scratch_;
  // Routing key -> matching binding positions. Publishers mostly reuse a few keys, and a hit
  // skips splitting the key and walking the trie. Positions in bindings_, so any binding change
  // clears it. Bounded in keys and in positions held; when it fills with keys that are not
  // reused (ids in keys), caching pauses for a while instead of churning allocations.
  mutable std::unordered_map<std::string, std::vector<size_t>, KeyHash, std::equal_to<>>
      topic_cache_;
  mutable size_t topic_cache_matches_ = 0;  // positions held by topic_cache_
  mutable size_t topic_cache_hits_ = 0;     // since it was last cleared
  mutable size_t topic_cache_pause_ = 0;    // lookups left before caching resumes
};

}  // namespace pulse::broker
