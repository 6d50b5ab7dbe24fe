// pulse-translator: buildbot's messages normalized as pulsetranslator did. See README.md.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "translator_args.h"
#include "translator_loop.h"

namespace {

void on_signal(int) {
  pulse::tools::request_translator_stop();
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed =
      pulse::tools::parse_translator_args(argc, argv, std::getenv("PULSE_URI"), host_name());
  if (!parsed.args) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  pulse::tools::handle_stop_signals(on_signal);
  return pulse::tools::run_translator(*parsed.args);
}
