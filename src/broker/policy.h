#pragma once
// Policies (RabbitMQ's rabbit_policy): vhost-wide rules that give queues and exchanges optional
// arguments by name pattern, changeable at run time. Exactly one policy applies to an entity:
// the matching one with the highest priority. The queue or exchange combines it with its own
// x-arguments (effective_queue_args, Exchange::set_policy); VHost::set_policy re-evaluates
// every entity of the vhost at once (vhost_policies.cc).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.h"
#include "base/result.h"
#include "broker/queue_args.h"

namespace re2 {
class RE2;
}

namespace pulse::broker {

enum class PolicyApplyTo { kAll, kQueues, kExchanges };
std::optional<PolicyApplyTo> parse_apply_to(std::string_view s);
const char* apply_to_name(PolicyApplyTo a);

// A policy as a client gives it (definitions file, management API, pulsectl).
struct PolicySpec {
  std::string name;
  std::string pattern;           // regex searched (unanchored) in the entity name
  std::string apply_to = "all";  // "all", "queues" or "exchanges"
  int64_t priority = 0;
  amqp::FieldTable definition;  // keys as RabbitMQ's, without "x-": {"max-length": 10}
};

class Policy {
 public:
  // Validates `spec` as RabbitMQ 3.10 does and compiles the pattern. The error's text holds
  // RabbitMQ's reasons, one a line (see validation_failed_text); Error::code is 0.
  static Result<std::shared_ptr<const Policy>> create(std::string vhost, PolicySpec spec);
  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  const std::string& vhost() const { return vhost_; }
  const std::string& name() const { return spec_.name; }
  const std::string& pattern() const { return spec_.pattern; }
  PolicyApplyTo apply_to() const { return apply_to_; }
  int64_t priority() const { return spec_.priority; }
  // Sorted by key (RabbitMQ keeps definitions as maps): also the effective definition shown
  // per queue/exchange, as there are no operator policies.
  const amqp::FieldTable& definition() const { return spec_.definition; }
  const amqp::FieldValue* get(std::string_view key) const;
  const PolicySpec& spec() const { return spec_; }

  bool matches_name(std::string_view entity_name) const;
  // RabbitMQ skips a policy for a queue whose type does not support one of its keys (e.g.
  // delivery-limit on a classic queue, queue-mode on a quorum queue), so a lower-priority
  // policy may apply instead.
  bool applicable_to_queue(bool quorum) const { return quorum ? for_quorum_ : for_classic_; }
  // Same content: re-setting an identical policy changes nothing, as in RabbitMQ.
  bool same_as(const Policy& o) const;

 private:
  Policy() = default;

  std::string vhost_;
  PolicySpec spec_;
  PolicyApplyTo apply_to_ = PolicyApplyTo::kAll;
  std::unique_ptr<re2::RE2> re_;
  bool for_classic_ = true, for_quorum_ = true;
};

using PolicyPtr = std::shared_ptr<const Policy>;
using PolicyMap = std::map<std::string, PolicyPtr>;

// What the management API and rabbitmqctl say for a failed Policy::create:
// "Validation failed\n\n<reason>\n<reason>\n".
std::string validation_failed_text(const Error& e);

// The policy in force: the highest priority among those matching by kind, queue type and
// pattern. RabbitMQ leaves ties to its table order; here the first name in byte order wins,
// so the choice is stable. Null when none matches.
PolicyPtr select_queue_policy(const PolicyMap& policies, std::string_view name, bool quorum);
PolicyPtr select_exchange_policy(const PolicyMap& policies, std::string_view name);

// A queue's effective arguments: its declared x-arguments (`declared`, parsed from `table`)
// combined with `policy` the way RabbitMQ 3.10 does. Classic queues: expires, message-ttl,
// max-length, max-length-bytes take the smaller of argument and policy; the argument wins for
// dead-letter-exchange, dead-letter-routing-key and overflow. Quorum queues: the policy wins
// for overflow and expires; the smaller value for max-length(-bytes), message-ttl and
// delivery-limit; the argument wins for the dead-letter keys; reject-publish-dlx, from either,
// falls back to drop-head. Also used without a policy (that last rule).
QueueArgs effective_queue_args(const QueueArgs& declared, const amqp::FieldTable& table,
                               const Policy* policy);

// An exchange's alternate exchange: its argument when present (whatever its type, as
// RabbitMQ's rabbit_policy:get_arg), else the policy's.
std::optional<std::string> effective_alternate_exchange(const amqp::FieldTable& arguments,
                                                        const Policy* policy);

}  // namespace pulse::broker
