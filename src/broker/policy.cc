#include "broker/policy.h"

#include <re2/re2.h>

#include <algorithm>

#include "auth/erlang_regex.h"
#include "broker/policy_validate.h"

namespace pulse::broker {

namespace {

// The keys each queue type refuses (rabbit_classic_queue / rabbit_quorum_queue
// capabilities(): unsupported_policies).
constexpr const char* kNotForClassic[] = {"max-age",
                                          "stream-max-segment-size-bytes",
                                          "queue-leader-locator",
                                          "initial-cluster-size",
                                          "delivery-limit",
                                          "dead-letter-strategy"};
constexpr const char* kNotForQuorum[] = {"max-priority",
                                         "queue-mode",
                                         "single-active-consumer",
                                         "ha-mode",
                                         "ha-params",
                                         "ha-sync-mode",
                                         "ha-promote-on-shutdown",
                                         "ha-promote-on-failure",
                                         "queue-master-locator",
                                         "max-age",
                                         "stream-max-segment-size-bytes",
                                         "initial-cluster-size"};

template <size_t N>
bool has_any(const amqp::FieldTable& def, const char* const (&keys)[N]) {
  return std::any_of(std::begin(keys), std::end(keys),
                     [&](const char* k) { return amqp::find(def, k) != nullptr; });
}

bool better(const Policy& candidate, const Policy* best) {
  // Names are unique per vhost and visited in byte order, so ">" keeps the first on a tie.
  return !best || candidate.priority() > best->priority();
}

std::optional<int64_t> policy_int(const Policy* p, const char* key) {
  const amqp::FieldValue* v = p ? p->get(key) : nullptr;
  return v ? v->as_int() : std::nullopt;
}

std::optional<std::string> policy_string(const Policy* p, const char* key) {
  const amqp::FieldValue* v = p ? p->get(key) : nullptr;
  const std::string* s = v ? v->as_string() : nullptr;
  return s ? std::optional<std::string>(*s) : std::nullopt;
}

// rabbit_queue_type_util:args_policy_lookup with a resolver for "both present".
std::optional<int64_t> smaller(std::optional<int64_t> arg, std::optional<int64_t> pol) {
  if (arg && pol) return std::min(*arg, *pol);
  return arg ? arg : pol;
}

std::optional<Overflow> parse_overflow(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  if (*s == "drop-head") return Overflow::kDropHead;
  if (*s == "reject-publish") return Overflow::kRejectPublish;
  if (*s == "reject-publish-dlx") return Overflow::kRejectPublishDlx;
  return std::nullopt;
}

}  // namespace

std::optional<PolicyApplyTo> parse_apply_to(std::string_view s) {
  if (s == "all") return PolicyApplyTo::kAll;
  if (s == "queues") return PolicyApplyTo::kQueues;
  if (s == "exchanges") return PolicyApplyTo::kExchanges;
  return std::nullopt;
}

const char* apply_to_name(PolicyApplyTo a) {
  switch (a) {
    case PolicyApplyTo::kQueues:
      return "queues";
    case PolicyApplyTo::kExchanges:
      return "exchanges";
    case PolicyApplyTo::kAll:
      break;
  }
  return "all";
}

Policy::~Policy() = default;

Result<std::shared_ptr<const Policy>> Policy::create(std::string vhost, PolicySpec spec) {
  std::stable_sort(spec.definition.begin(), spec.definition.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto re = std::make_unique<RE2>(spec.pattern, auth::erlang_regex_options());
  auto reasons = policy_detail::validate_policy(spec, *re);
  if (!reasons.empty()) {
    std::string text;
    for (const auto& r : reasons) text += (text.empty() ? "" : "\n") + r;
    return Error{0, std::move(text)};
  }
  std::shared_ptr<Policy> p(new Policy());
  p->vhost_ = std::move(vhost);
  p->apply_to_ = *parse_apply_to(spec.apply_to);
  p->for_classic_ = !has_any(spec.definition, kNotForClassic);
  p->for_quorum_ = !has_any(spec.definition, kNotForQuorum);
  p->spec_ = std::move(spec);
  p->re_ = std::move(re);
  return std::shared_ptr<const Policy>(std::move(p));
}

const amqp::FieldValue* Policy::get(std::string_view key) const {
  return amqp::find(spec_.definition, key);
}

bool Policy::matches_name(std::string_view entity_name) const {
  return RE2::PartialMatch(entity_name, *re_);
}

bool Policy::same_as(const Policy& o) const {
  return vhost_ == o.vhost_ && spec_.name == o.spec_.name && spec_.pattern == o.spec_.pattern &&
         apply_to_ == o.apply_to_ && spec_.priority == o.spec_.priority &&
         spec_.definition == o.spec_.definition;
}

std::string validation_failed_text(const Error& e) {
  return "Validation failed\n\n" + e.text + "\n";
}

PolicyPtr select_queue_policy(const PolicyMap& policies, std::string_view name, bool quorum) {
  const PolicyPtr* best = nullptr;
  for (const auto& [n, p] : policies) {
    if (p->apply_to() == PolicyApplyTo::kExchanges || !p->applicable_to_queue(quorum)) continue;
    if (better(*p, best ? best->get() : nullptr) && p->matches_name(name)) best = &p;
  }
  return best ? *best : nullptr;
}

PolicyPtr select_exchange_policy(const PolicyMap& policies, std::string_view name) {
  const PolicyPtr* best = nullptr;
  for (const auto& [n, p] : policies) {
    if (p->apply_to() == PolicyApplyTo::kQueues) continue;
    if (better(*p, best ? best->get() : nullptr) && p->matches_name(name)) best = &p;
  }
  return best ? *best : nullptr;
}

QueueArgs effective_queue_args(const QueueArgs& declared, const amqp::FieldTable& table,
                               const Policy* policy) {
  QueueArgs q = declared;
  const bool quorum = declared.quorum;
  // Quorum queues do not support reject-publish-dlx: RabbitMQ logs a warning and drops heads.
  auto finish = [&] {
    if (quorum && q.overflow == Overflow::kRejectPublishDlx) q.overflow = Overflow::kDropHead;
    return q;
  };
  if (!policy) return finish();
  q.max_length = smaller(declared.max_length, policy_int(policy, "max-length"));
  q.max_length_bytes = smaller(declared.max_length_bytes, policy_int(policy, "max-length-bytes"));
  q.message_ttl = smaller(declared.message_ttl, policy_int(policy, "message-ttl"));
  if (!q.dead_letter_exchange)
    q.dead_letter_exchange = policy_string(policy, "dead-letter-exchange");
  if (!q.dead_letter_routing_key)
    q.dead_letter_routing_key = policy_string(policy, "dead-letter-routing-key");
  const auto pol_overflow = parse_overflow(policy_string(policy, "overflow"));
  const auto pol_expires = policy_int(policy, "expires");
  if (quorum) {
    if (pol_overflow) q.overflow = *pol_overflow;
    if (pol_expires) q.expires = pol_expires;
    q.delivery_limit = smaller(declared.delivery_limit, policy_int(policy, "delivery-limit"));
  } else {
    if (pol_overflow && !amqp::find(table, "x-overflow")) q.overflow = *pol_overflow;
    q.expires = smaller(declared.expires, pol_expires);
  }
  return finish();
}

std::optional<std::string> effective_alternate_exchange(const amqp::FieldTable& arguments,
                                                        const Policy* policy) {
  if (const amqp::FieldValue* ae = amqp::find(arguments, "alternate-exchange")) {
    const std::string* s = ae->as_string();
    return s ? std::optional<std::string>(*s) : std::nullopt;
  }
  return policy_string(policy, "alternate-exchange");
}

}  // namespace pulse::broker
