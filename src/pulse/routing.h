#pragma once
// Pulse's rules for names and routing keys (../shared/pulse-reference.md).
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse {

// mozillapulse's two rules, no more: "" and keys containing ".." are refused (a leading or
// trailing dot passes, as it did there), plus keys over 255 bytes (AMQP's shortstr).
// The error text names the key and the rule.
Status check_routing_key(std::string_view key);

// Taskcluster's CC routes: each custom route `x` travels as "route.x" in the CC header.
std::vector<std::string> cc_routes(const std::vector<std::string>& routes);

// A Pulse user name: ^[a-zA-Z][a-zA-Z0-9._-]*$
bool valid_user_name(std::string_view user);

// The consumer queue: "queue/<user>/<applabel>", or "queue/<user>/<uuid4>" without an applabel.
std::string consumer_queue_name(std::string_view user, std::string_view applabel);

// A random RFC 4122 version-4 UUID in its 36-character text form.
std::string uuid4();

}  // namespace pulse
