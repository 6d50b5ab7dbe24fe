// pulse-guardian: PulseGuardian for a RabbitMQ node or cluster, over the management HTTP API.
// See README.md and --help.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "base/log.h"
#include "cli.h"
#include "config_file.h"
#include "guardian_args.h"
#include "guardian_loop.h"

namespace {

std::atomic<bool> g_stop{false};

// First signal: stop after the poll in progress. Second: at once (a request to a hung server
// may take up to --timeout).
void on_signal(int sig) {
  if (g_stop.exchange(true)) {
    static const char kMsg[] = "pulse-guardian: second signal, exiting at once\n";
    (void)!::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    ::_exit(128 + sig);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pulse::tools;
  // The log is the tool's output (the journal under systemd): stderr, as every tool's messages.
  spdlog::set_default_logger(spdlog::stderr_color_mt("pulse-guardian"));
  pulse::init_logging();
  auto parsed = parse_guardian_args(argc, argv);
  if (!parsed.args) {
    (parsed.exit_code == kExitOk ? std::cout : std::cerr) << parsed.message << std::flush;
    return parsed.exit_code;
  }
  GuardianArgs& args = *parsed.args;
  args.mgmt.password = read_secret(args.mgmt.password);

  GuardianConfig config;
  config.guardian.enabled = true;
  if (!args.config.empty()) {
    auto loaded = load_guardian_config(args.config);
    if (!loaded) {
      std::cerr << "pulse-guardian: " << loaded.error().text << "\n";
      return kExitUsage;
    }
    config = std::move(*loaded);
  }

  pulse::tools::handle_stop_signals(on_signal);
  return run_guardian(args, config, g_stop);
}
