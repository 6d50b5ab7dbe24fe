#pragma once
// What pulse-publish and pulse-listen share: exit codes, CLI11 parsing that reports instead of
// exiting (so it can be tested), --uri / $PULSE_URI, and the stderr lines about connections.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/options.h"
#include "pulse/recovery.h"

namespace pulse::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

inline constexpr const char* kDefaultUri = "amqp://guest:guest@127.0.0.1:5672/";

// A parsed command line, or what to print instead and the exit status: --help (text for
// stdout, exit 0) or a usage error (text for stderr, exit 2).
template <class Args>
struct Parsed {
  std::optional<Args> args;
  int exit_code = kExitOk;
  std::string message;
};

// A usage error: "<program>: <text>" and a hint, exit status 2.
template <class Args>
Parsed<Args> usage_error(std::string_view program, const std::string& text) {
  Parsed<Args> p;
  p.exit_code = kExitUsage;
  p.message = std::string(program) + ": " + text + "\nRun with --help for more information.\n";
  return p;
}

// CLI11's parse; false when the program must stop with `exit_code` after printing `message`
// (usage errors start with "<program>: ").
bool parse_cli(CLI::App& app, std::string_view program, int argc, const char* const* argv,
               int& exit_code, std::string& message);

// The --uri option with $PULSE_URI as its fallback; `uri` receives the value.
CLI::Option* add_uri_option(CLI::App& app, std::string& uri);
// The endpoints to try in turn: --uri when given, else `env_uri` ($PULSE_URI) when set and not
// empty, else kDefaultUri (the local broker, plaintext: what pulsed listens on by default). A
// part without a scheme is a host as mozillapulse takes it: TLS, 5671 (pulse::parse_uri_list).
// (Connections are named by the Pulse layer: "pulse consumer <queue>", "pulse publisher".)
Result<std::vector<client::ConnectionOptions>> resolve_endpoints(const std::string& uri_flag,
                                                                 const char* env_uri);

// "host:port", IPv6 hosts in brackets.
std::string host_port(const client::ConnectionOptions& endpoint);

// One "<program>: <text>\n" line on stderr, written with a single write(2) so that lines of
// processes sharing the stderr (a pipeline of tools) do not interleave mid-line.
void say(std::string_view program, std::string_view text);

// Recovery hooks announcing on stderr every lost connection ("connection lost: <reason>;
// reconnecting"), every recovery ("recovered on <host>:<port>") and every failed connection
// attempt ("cannot connect to <host>:<port>: <reason>; retrying"). `before` (may be empty) runs
// first in each, e.g. to flush stdout so the announcement follows the output it concerns.
void announce_recovery(RecoveryOptions& recovery, std::string program,
                       std::function<void()> before = {});

// SIGINT and SIGTERM call `handler` (which may only set a flag or _exit: it runs in a signal
// handler); SIGPIPE is ignored, so a closed stdout or socket is an error value, not a death.
void handle_stop_signals(void (*handler)(int));

}  // namespace pulse::tools
