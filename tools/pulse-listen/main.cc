// pulse-listen: prints the messages of Pulse exchanges, one JSON object per line, recovering
// from every lost connection. See README.md.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "listen_args.h"
#include "listen_loop.h"

namespace {

void on_signal(int) {
  pulse::tools::request_stop();
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = pulse::tools::parse_listen_args(argc, argv, std::getenv("PULSE_URI"));
  if (!parsed.args) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  pulse::tools::handle_stop_signals(on_signal);
  return pulse::tools::run_listen(*parsed.args);
}
