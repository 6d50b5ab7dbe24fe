// pulse-bridge: webhooks and feeds as Pulse messages. See README.md and --help.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "base/log.h"
#include "bridge_args.h"
#include "bridge_config.h"
#include "bridge_loop.h"
#include "cli.h"

namespace {

std::atomic<bool> g_stop{false};

// First signal: stop after the requests and polls under way. Second: at once.
void on_signal(int sig) {
  if (g_stop.exchange(true)) {
    static const char kMsg[] = "pulse-bridge: second signal, exiting at once\n";
    (void)!::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    ::_exit(128 + sig);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pulse::bridge;
  // Logs on stderr (the journal under systemd); stdout is --dry-run's output.
  spdlog::set_default_logger(spdlog::stderr_color_mt("pulse-bridge"));
  pulse::init_logging();
  auto parsed = parse_bridge_args(argc, argv, std::getenv("PULSE_URI"));
  if (!parsed.args) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::flush;
    return parsed.exit_code;
  }
  auto config = load_bridge_config(parsed.args->config,
                                   [](const std::string& n) { return std::getenv(n.c_str()); });
  if (!config) {
    std::cerr << "pulse-bridge: " << config.error().text << "\n";
    return 2;
  }
  pulse::tools::handle_stop_signals(on_signal);
  return run_bridge(*parsed.args, *config, g_stop);
}
