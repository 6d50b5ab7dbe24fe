#pragma once
// Policy validation with RabbitMQ 3.10's rules and texts (rabbit_policy, rabbit_policies,
// rabbit_mirror_queue_misc, rabbit_queue_location_validator). Internal to the broker.
#include <string>
#include <vector>

#include "amqp/field_table.h"
#include "broker/policy.h"

namespace re2 {
class RE2;
}

namespace pulse::broker::policy_detail {

// Every reason `spec` is refused, in the order RabbitMQ reports them; empty when valid.
// `compiled` is spec.pattern compiled with RE2 (possibly with an error).
std::vector<std::string> validate_policy(const PolicySpec& spec, const re2::RE2& compiled);

}  // namespace pulse::broker::policy_detail
