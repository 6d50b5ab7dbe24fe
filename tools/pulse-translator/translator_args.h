#pragma once
// pulse-translator's command line (see README.md).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.h"
#include "client/options.h"
#include "pulse/consumer.h"

namespace pulse::tools {

struct TranslatorArgs {
  std::vector<client::ConnectionOptions> endpoints;
  std::string user;      // queue owner; empty = the login user
  std::string applabel;  // the queue is queue/<user>/<applabel>
  std::string input_exchange = "exchange/build/";
  std::string output_exchange = "exchange/build/normalized";
  std::string state_dir = "/var/lib/pulse-translator";
  std::chrono::seconds log_check_interval{15};
  std::chrono::seconds log_check_timeout{600};
  bool log_check = true;
  bool dry_run = false;
  size_t max_pending = 1000;
  uint16_t prefetch = 20;
};

// `env_uri` is $PULSE_URI (may be null); `host` names the default queue
// (pulse-build-translator-<host>, as pulsetranslator named it).
Parsed<TranslatorArgs> parse_translator_args(int argc, const char* const* argv, const char* env_uri,
                                             const std::string& host);

// The input consumer: durable queue bound with #.finished and #.log_uploaded (--dry-run: a
// temporary queue, so the real one keeps its messages).
ConsumerOptions translator_consumer_options(const TranslatorArgs& args);

}  // namespace pulse::tools
