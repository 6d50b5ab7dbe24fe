#pragma once
// `pulsectl pulse ...`: the parsed command (PulseCommand), its CLI11 definition and the pure
// conversions of its arguments into what /api/pulse takes (paths, RFC 3339 times, the
// guardian's settings). No I/O here, so the unit tests cover it all (tests/unit/tools_pulse).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace pulse::ctl {

struct PulseCommand {
  // noun: whoami, owners, users, namespaces, guardian, guardian-owners, guardian-unbounded.
  std::string noun, verb;
  std::string name;   // EMAIL, Pulse user NAME, namespace NS, OWNER, VHOST
  std::string queue;  // guardian unbounded add/remove: QUEUE
  std::optional<std::string> display_name, admin, password, owner, description, contact;
  std::string expires;
  bool delete_queues = false;
  std::vector<std::string> settings;  // guardian set KEY=VALUE...
  std::optional<uint64_t> warn, del;  // guardian owners set
  std::optional<uint64_t> after, limit;
  bool follow = false;
  double poll_seconds = 2;
  std::string columns;  // lists: -c
  // subscriptions add: --exchange, --callback, --secret (required), --topic, --vhost, --lease
  // (seconds or a duration), --user; `name` is the id for show and delete.
  std::string exchange, callback, secret;
  std::optional<std::string> topic, vhost, lease, user;
};

// Adds the `pulse` command group to `app`. When CLI11 has parsed one of its commands into
// `*cmd`, `chosen` is called (pulsectl's main makes it the action).
CLI::App* add_pulse_commands(CLI::App& app, std::shared_ptr<PulseCommand> cmd,
                             std::function<void()> chosen);

// "/api/pulse/" + each segment percent-encoded (vhost "/" -> %2F, "queue/a/q" ->
// queue%2Fa%2Fq, "a@b" -> a%40b), as src/pulse/api/README.md asks.
std::string pulse_path(std::initializer_list<std::string> segments);

// --expires: an RFC 3339 time (passed on as it is) or "+DURATION" from `now` (+7d, +12h,
// +1d12h, +90m, +30s, +2w), given as RFC 3339 in UTC. A usage error (exit 2) otherwise.
Result<std::string> parse_expires(const std::string& text,
                                  std::chrono::system_clock::time_point now);

// "30", "30s", "5m", "1h30m", "7d", "2w" -> seconds. `what` names the argument in errors.
Result<uint64_t> parse_seconds(const std::string& text, const std::string& what);

// guardian set KEY=VALUE...: interval, idle_queue_expiry, max_connection_age (seconds or a
// duration such as 5m), warn_queue_size, delete_queue_size (message counts); VALUE "default"
// gives the key back to the configuration (JSON null).
Result<nlohmann::json> parse_guardian_settings(const std::vector<std::string>& items);
extern const std::vector<std::string> kGuardianSettingKeys;

// subscriptions add: the POST body (the lease read with parse_seconds).
Result<nlohmann::json> subscription_body(const PulseCommand& cmd);

// "?after=5&owner=o&limit=10" (empty when none is given).
std::string notices_query(std::optional<uint64_t> after, const std::optional<std::string>& owner,
                          std::optional<uint64_t> limit);

}  // namespace pulse::ctl
