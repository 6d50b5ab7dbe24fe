#pragma once
// Vhost and user limits as RabbitMQ 3.10 has them: vhost limits `max-connections` and
// `max-queues` (the vhost's `vhost-limits` runtime parameter, named "limits", a list of
// name/value pairs, newest first), user limits `max-connections` and `max-channels` (a map in
// the user record, by name). Values are integers; a negative one means no limit and 0 refuses
// everything. This file holds the validation with RabbitMQ's texts (rabbit_parameter_validation
// proplist/integer) and the refusals the protocol layers send; the counting is theirs, because
// only they know their connections and channels.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "amqp/field_table.h"
#include "base/result.h"

namespace pulse::auth {
struct User;
}

namespace pulse::broker {

class VHost;

inline constexpr std::string_view kMaxConnections = "max-connections";
inline constexpr std::string_view kMaxQueues = "max-queues";
inline constexpr std::string_view kMaxChannels = "max-channels";
// The runtime parameter that holds a vhost's limits.
inline constexpr std::string_view kVhostLimitsComponent = "vhost-limits";
inline constexpr std::string_view kVhostLimitsName = "limits";

// Name/value pairs in the order RabbitMQ lists them.
using LimitList = std::vector<std::pair<std::string, int64_t>>;

enum class LimitKind { kVhost, kUser };

// Validates a limits object (a vhost-limits value, a user's limits) as RabbitMQ does: only the
// kind's names, integer values. Empty when valid, else RabbitMQ's reasons in its order
// (unrecognised names first, then bad values, the last known name first), e.g.
// `max-queues should be a number, actually was <<"x">>` or
// `Unrecognised terms [{<<"foo">>,3}] in limits` (`in user-limits` for users).
std::vector<std::string> limit_errors(LimitKind kind, const amqp::FieldValue& value);
// "Validation failed\n\n" and each reason on its line: the text of a vhost-limits refusal.
std::string validation_failed_text(const std::vector<std::string>& reasons);
// The pairs of a valid limits object, in its order. Call limit_errors() first.
LimitList limit_list(const amqp::FieldValue& value);

// A limit in force: absent and negative values are none.
std::optional<int64_t> limit_in_force(const LimitList& limits, std::string_view name);
std::optional<int64_t> limit_in_force(const std::map<std::string, int64_t>& limits,
                                      std::string_view name);

// The checks, in RabbitMQ 3.10's words (rabbit_reader, rabbit_channel). `count` is only called
// when a limit is in force; it says how many connections (channels, queues) exist besides the
// one asked for.
// connection.open to a vhost at its limit: 530 "NOT_ALLOWED - access to vhost 'v' refused for
// user 'u': connection limit (N) is reached".
Status check_vhost_connection_limit(const VHost& vh, const std::string& user,
                                    const std::function<size_t()>& count);
// connection.open by a user at its limit: 530 "NOT_ALLOWED - connection refused for user 'u':
// user connection limit (N) is reached".
Status check_user_connection_limit(const auth::User& user, const std::function<size_t()>& count);
// channel.open by a user at its limit: 530 "NOT_ALLOWED - number of channels opened for user
// 'u' has reached the maximum allowed user limit of (N)".
Status check_user_channel_limit(const auth::User& user, const std::function<size_t()>& count);
// queue.declare of a new queue in a vhost at its limit: 406 "PRECONDITION_FAILED - cannot
// declare queue 'q': queue limit in vhost 'v' (N) is reached".
Status check_vhost_queue_limit(const VHost& vh, const std::string& queue);

}  // namespace pulse::broker
