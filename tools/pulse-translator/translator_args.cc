#include "translator_args.h"

#include "pulse/routing.h"

namespace pulse::tools {

namespace {

constexpr const char* kFooter = R"(
Consumes buildbot's messages from exchange/build/ (#.finished, #.log_uploaded) on a durable
queue, normalizes them as pulsetranslator did, waits until each job's log URL answers and
publishes the normalized messages on exchange/build/normalized (persistent, confirmed).
Inputs are acknowledged once their outputs are safe in --state-dir; see README.md.

Exit status:
  0  stopped by SIGINT/SIGTERM
  1  failure: refused login, missing exchange, unusable --state-dir, ...
  2  usage error)";

Parsed<TranslatorArgs> usage(const std::string& text) {
  return usage_error<TranslatorArgs>("pulse-translator", text);
}

}  // namespace

Parsed<TranslatorArgs> parse_translator_args(int argc, const char* const* argv, const char* env_uri,
                                             const std::string& host) {
  TranslatorArgs a;
  std::string uri, queue;
  int64_t interval = 15, timeout = 600;
  CLI::App app{"pulse-translator: buildbot messages normalized onto exchange/build/normalized"};
  app.footer(kFooter);
  add_uri_option(app, uri);
  app.add_option("--queue", queue,
                 "input queue queue/<user>/<name> (default: "
                 "queue/<login user>/pulse-build-translator-<host>)");
  app.add_option("--state-dir", a.state_dir,
                 "where pending messages and the record of published inputs are kept")
      ->capture_default_str();
  app.add_option("--log-check-interval", interval, "seconds between checks of a log URL")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--log-check-timeout", timeout,
                 "seconds after which a log URL that never answered is given up")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bool no_log_check = false;
  app.add_flag("--no-log-check", no_log_check, "publish at once, without waiting for the log URL");
  app.add_flag("--dry-run", a.dry_run,
               "print what would be published (one JSON line per message) instead of "
               "publishing; reads a temporary queue and keeps no state");
  app.add_option("--max-pending", a.max_pending,
                 "messages waiting for their log at most; more wait in the queue")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--prefetch", a.prefetch, "unacknowledged input messages in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--input-exchange", a.input_exchange, "where buildbot publishes")
      ->capture_default_str();
  app.add_option("--output-exchange", a.output_exchange, "where normalized messages go")
      ->capture_default_str();

  Parsed<TranslatorArgs> p;
  if (!parse_cli(app, "pulse-translator", argc, argv, p.exit_code, p.message)) return p;
  a.log_check = !no_log_check;
  a.log_check_interval = std::chrono::seconds(interval);
  a.log_check_timeout = std::chrono::seconds(timeout);
  if (queue.empty()) {
    a.applabel = "pulse-build-translator-" + host;
  } else {
    // queue/<user>/<name>: the owner and the application label of a Pulse consumer queue.
    constexpr std::string_view kPrefix = "queue/";
    auto slash = queue.find('/', kPrefix.size());
    if (queue.rfind(kPrefix, 0) != 0 || slash == std::string::npos || slash + 1 >= queue.size()) {
      return usage("--queue '" + queue + "' is not queue/<user>/<name>");
    }
    a.user = queue.substr(kPrefix.size(), slash - kPrefix.size());
    a.applabel = queue.substr(slash + 1);
    if (!valid_user_name(a.user)) {
      return usage("--queue '" + queue + "': '" + a.user + "' is not a Pulse user name");
    }
  }
  if (a.input_exchange.empty() || a.output_exchange.empty()) {
    return usage("the default exchange cannot be used");
  }
  if (a.state_dir.empty() && !a.dry_run) return usage("--state-dir must not be empty");
  auto endpoints = resolve_endpoints(uri, env_uri);
  if (!endpoints) return usage(endpoints.error().text);
  a.endpoints = std::move(*endpoints);
  p.args = std::move(a);
  return p;
}

ConsumerOptions translator_consumer_options(const TranslatorArgs& a) {
  ConsumerOptions o;
  o.recovery.endpoints = a.endpoints;
  o.bindings = {{a.input_exchange, "#.finished"}, {a.input_exchange, "#.log_uploaded"}};
  o.user = a.user;
  o.prefetch = a.prefetch;
  // A message that cannot be stored yet (the pending set is full, the disk failed) is requeued
  // until it can: giving it up would lose it.
  o.max_attempts = 1u << 30;
  if (!a.dry_run) {
    o.applabel = a.applabel;
    o.durable = true;
  }
  return o;
}

}  // namespace pulse::tools
