#pragma once
// pulse-publish's command line (see README.md).
#include <chrono>
#include <string>
#include <vector>

#include "cli.h"
#include "client/options.h"
#include "pulse/publisher.h"

namespace pulse::tools {

struct PublishArgs {
  std::vector<client::ConnectionOptions> endpoints;
  std::string exchange;
  std::string routing_key;
  bool envelope = true;    // wrap each line as the payload of a Pulse envelope
  bool persistent = true;  // delivery_mode 2
  std::string file;        // empty: stdin
  std::vector<std::string> routes;
  std::chrono::milliseconds deadline{12000};
  bool declare = true;  // declare the exchange (durable topic) before publishing
};

// `env_uri` is $PULSE_URI (may be null). The routing key and routes are checked here, so a bad
// one is a usage error rather than a failure of every line.
Parsed<PublishArgs> parse_publish_args(int argc, const char* const* argv, const char* env_uri);

PublisherOptions publisher_options(const PublishArgs& args);
PublishOptions publish_options(const PublishArgs& args);

}  // namespace pulse::tools
