#include "logparser_args.h"

#include "base/log.h"
#include "pulse/routing.h"

namespace pulse::tools {

namespace {

constexpr const char* kFooter = R"(
Consumes normalized test-finished messages (pulse-translator's, on --exchange), fetches each
job's log (logurl), finds its failure lines (TEST-UNEXPECTED-*, PROCESS-CRASH, assertions,
leaks) and publishes a summary per job on --output-exchange with the routing key
<tree>.<platform>.<buildtype>.<test>. Each input is acked once its summary is confirmed.

A log that cannot be fetched (after --fetch-attempts for unreachable servers and 5xx replies;
at once for other 4xx, a bad URL or a log over --max-log-bytes) gets a summary all the same,
with its "error" field set and no failures.

--dry-run prints the summaries on stdout (one JSON line each) and publishes nothing; without
--queue it reads from a temporary queue, so it takes nothing from the service's own queue.

Exit status:
  0  stopped by SIGINT/SIGTERM
  1  failure: refused login, missing exchange, no permission, ...
  2  usage error)";

Parsed<LogparserArgs> usage(const std::string& text) {
  return usage_error<LogparserArgs>("pulse-logparser", text);
}

}  // namespace

bool split_queue_name(const std::string& name, std::string& user, std::string& applabel) {
  if (name.rfind("queue/", 0) != 0) return false;
  const size_t slash = name.find('/', 6);
  if (slash == std::string::npos || slash == 6 || slash + 1 >= name.size()) return false;
  user = name.substr(6, slash - 6);
  applabel = name.substr(slash + 1);
  return true;
}

Parsed<LogparserArgs> parse_logparser_args(int argc, const char* const* argv, const char* env_uri) {
  LogparserArgs a;
  std::string uri, queue;
  std::vector<std::string> topics;
  uint64_t retry_ms = static_cast<uint64_t>(a.fetch.retry_delay.count());
  uint64_t timeout_ms = static_cast<uint64_t>(a.fetch.timeout.count());
  CLI::App app{"pulse-logparser: failure lines of test logs, published per job on Pulse"};
  app.footer(kFooter);
  add_uri_option(app, uri);
  app.add_option("--exchange", a.exchange, "exchange of the normalized messages")
      ->capture_default_str();
  app.add_option("--topic", topics,
                 "routing-key pattern to bind (repeatable; default unittest.# and talos.#)");
  app.add_option("--output-exchange", a.output_exchange, "exchange the summaries go to")
      ->capture_default_str();
  app.add_option("--queue", queue,
                 "durable input queue queue/<user>/<name> (default "
                 "queue/<login user>/pulse-logparser)");
  app.add_option("--jobs", a.jobs, "logs fetched and parsed at once (worker threads)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--prefetch", a.prefetch, "unacked inputs in flight (default: 2 x --jobs)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--max-log-bytes", a.fetch.max_bytes, "largest log read, after decompression")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-failures", a.parser.max_failures,
                 "failure lines kept per job (more set \"truncated\")")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-line-bytes", a.parser.max_line_bytes, "longer log lines are cut there")
      ->capture_default_str()
      ->check(CLI::Range(80, 1 << 20));
  app.add_option("--fetch-attempts", a.fetch.attempts, "attempts per log (first included)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--retry-delay", retry_ms, "first back-off in ms (doubles, at most 60 s)")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  app.add_option("--fetch-timeout", timeout_ms, "ms allowed per connect and per read")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600000));
  app.add_option("--cacert", a.fetch.tls.cacert,
                 "PEM CA bundle for https log URLs (default: the system's CAs)")
      ->check(CLI::ExistingFile);
  app.add_flag("--dry-run", a.dry_run, "print the summaries on stdout; publish nothing");
  app.add_option("--log-level", a.log_level, "debug, info, warning, error, none")
      ->capture_default_str();

  Parsed<LogparserArgs> p;
  if (!parse_cli(app, "pulse-logparser", argc, argv, p.exit_code, p.message)) return p;

  if (!topics.empty()) a.topics = topics;
  for (const std::string& t : a.topics) {
    if (t.empty()) return usage("--topic: an empty pattern");
  }
  if (a.exchange.empty()) return usage("--exchange: the default exchange cannot be bound");
  if (a.output_exchange.empty()) return usage("--output-exchange: give an exchange name");
  if (!queue.empty()) {
    if (!split_queue_name(queue, a.queue_user, a.applabel)) {
      return usage("--queue '" + queue + "': expected queue/<user>/<name>");
    }
    if (!valid_user_name(a.queue_user)) {
      return usage("--queue '" + queue + "': '" + a.queue_user + "' is not a valid user name");
    }
    a.queue_given = true;
  }
  if (a.prefetch == 0) a.prefetch = static_cast<uint16_t>(2 * a.jobs);
  a.fetch.retry_delay = std::chrono::milliseconds(retry_ms);
  a.fetch.timeout = std::chrono::milliseconds(timeout_ms);
  if (!set_log_level(a.log_level)) return usage("--log-level: unknown level '" + a.log_level + "'");
  auto endpoints = resolve_endpoints(uri, env_uri);
  if (!endpoints) return usage(endpoints.error().text);
  a.endpoints = std::move(*endpoints);
  p.args = std::move(a);
  return p;
}

}  // namespace pulse::tools
