// pulse-logparser: the failure lines of each test job's log, published per job. See README.md.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "base/log.h"
#include "cli.h"
#include "logparser_args.h"
#include "logparser_loop.h"

namespace {

void on_signal(int) {
  pulse::tools::request_logparser_stop();
}

}  // namespace

int main(int argc, char** argv) {
  // Logs on stderr: stdout carries --dry-run's summaries.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("pulse-logparser"));
  pulse::init_logging();
  auto parsed = pulse::tools::parse_logparser_args(argc, argv, std::getenv("PULSE_URI"));
  if (!parsed.args) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  pulse::tools::handle_stop_signals(on_signal);
  return pulse::tools::run_logparser(*parsed.args);
}
