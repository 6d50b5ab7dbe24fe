// pulse-publish: publishes JSON lines to a Pulse exchange, each one confirmed by the broker.
// See README.md.
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
  const PublishArgs& args = *parsed.args;
  int fd = STDIN_FILENO;
  if (!args.file.empty()) {
    fd = ::open(args.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      say("pulse-publish", "--file " + args.file + ": " + std::strerror(errno));
      return kExitUsage;
    }
  }
  return exit_status(run_publish(args, fd));
}
