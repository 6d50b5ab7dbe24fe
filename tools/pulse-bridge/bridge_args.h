#pragma once
// pulse-bridge's command line (README.md).
#include <cstdint>
#include <string>
#include <vector>

#include "cli.h"
#include "client/options.h"

namespace pulse::bridge {

struct BridgeArgs {
  std::vector<client::ConnectionOptions> endpoints;
  std::string config;
  std::string listen;  // HOST:PORT; "" = pulse.bridge.listen
  std::string listen_cert;
  std::string listen_key;
  std::string state_dir;  // "" = pulse.bridge.state_dir
  bool dry_run = false;
  std::string log_level = "info";
};

// `env_uri` is $PULSE_URI (may be null).
tools::Parsed<BridgeArgs> parse_bridge_args(int argc, const char* const* argv, const char* env_uri);

}  // namespace pulse::bridge
