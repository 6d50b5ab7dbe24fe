#pragma once
// pulse-listen's command line (see README.md).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "client/options.h"
#include "pulse/consumer.h"

namespace pulse::tools {

struct ListenArgs {
  std::vector<client::ConnectionOptions> endpoints;
  std::vector<Binding> bindings;  // in command-line order
  std::string applabel;
  std::string user;  // queue owner; empty = the login user
  bool durable = false;
  std::optional<std::chrono::milliseconds> expires;
  uint16_t prefetch = 100;
  uint64_t count = 0;  // stop after this many messages; 0 = until a signal
  bool raw = false;
};

// `env_uri` is $PULSE_URI (may be null). A --topic belongs to the --exchange before it; an
// exchange given no --topic is bound with '#'.
Parsed<ListenArgs> parse_listen_args(int argc, const char* const* argv, const char* env_uri);

// The Consumer's options for these arguments (hooks are left to the caller).
ConsumerOptions consumer_options(const ListenArgs& args);

}  // namespace pulse::tools
