#pragma once
// pulse-logparser's command line (README.md).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.h"
#include "client/options.h"
#include "fetch.h"
#include "log_parser.h"
#include "pulse/consumer.h"

namespace pulse::tools {

struct LogparserArgs {
  std::vector<client::ConnectionOptions> endpoints;
  std::string exchange = "exchange/build/normalized";
  std::vector<std::string> topics{"unittest.#", "talos.#"};
  std::string output_exchange = "exchange/logparser/v1";
  // queue/<user>/<applabel>; `queue_user` empty = the login user.
  std::string queue_user;
  std::string applabel = "pulse-logparser";
  bool queue_given = false;
  unsigned jobs = 4;
  uint16_t prefetch = 0;  // 0: 2 x jobs
  logparser::FetchOptions fetch;
  logparser::ParserOptions parser;
  bool dry_run = false;
  std::string log_level = "info";
};

// `env_uri` is $PULSE_URI (may be null).
Parsed<LogparserArgs> parse_logparser_args(int argc, const char* const* argv, const char* env_uri);

// Splits "queue/<user>/<applabel>"; false when `name` has another shape.
bool split_queue_name(const std::string& name, std::string& user, std::string& applabel);

}  // namespace pulse::tools
