// pulse-publish: publishes JSON lines to a Pulse exchange, each one confirmed by the broker.
// See README.md.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "publish_args.h"
#include "publish_loop.h"

int main(int argc, char** argv) {
  using namespace pulse::tools;
  auto parsed = parse_publish_args(argc, argv, std::getenv("PULSE_URI"));
  if (!parsed.args) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::ios::sync_with_stdio(false);
  const PublishArgs& args = *parsed.args;
  if (args.file.empty()) return exit_status(run_publish(args, std::cin));
  std::ifstream file(args.file, std::ios::binary);
  if (!file) {
    say("pulse-publish", "--file " + args.file + ": " + std::strerror(errno));
    return kExitUsage;
  }
  return exit_status(run_publish(args, file));
}
