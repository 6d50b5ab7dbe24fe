#include "listen_args.h"

#include "pulse/routing.h"

namespace pulse::tools {

namespace {

constexpr const char* kFooter = R"(
Prints one JSON object per message on stdout:
  {"exchange": ..., "routing_key": ..., "redelivered": ..., "properties": {...}, "body": ...}
(--raw: the body alone). Connection losses and recoveries are reported on stderr.

Exit status:
  0  --count messages received, or stopped by SIGINT/SIGTERM
  1  failure: refused login, missing exchange, no permission, ...
  2  usage error)";

Parsed<ListenArgs> usage(const std::string& text) {
  return usage_error<ListenArgs>("pulse-listen", text);
}

}  // namespace

Parsed<ListenArgs> parse_listen_args(int argc, const char* const* argv, const char* env_uri) {
  ListenArgs a;
  std::string uri;
  std::vector<std::string> exchanges, topics;
  int64_t expires_ms = 0;
  CLI::App app{"pulse-listen: print the messages of Pulse exchanges, one JSON object per line"};
  app.footer(kFooter);
  add_uri_option(app, uri);
  auto* exchange_opt =
      app.add_option("--exchange", exchanges, "exchange to bind (repeatable; declared passively)")
          ->required();
  auto* topic_opt = app.add_option("--topic", topics,
                                   "routing-key pattern for the --exchange before it (repeatable; "
                                   "default '#')");
  app.add_option("--applabel", a.applabel, "names the queue queue/<user>/<applabel>");
  app.add_flag("--durable", a.durable,
               "durable queue that outlives the listener (needs --applabel)");
  auto* expires_opt = app.add_option("--expires", expires_ms,
                                     "queue expiry (x-expires) in ms: the broker deletes it after "
                                     "that long unused")
                          ->check(CLI::PositiveNumber);
  app.add_option("--prefetch", a.prefetch, "unacknowledged messages in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--count", a.count, "exit 0 after this many messages (0: run until stopped)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--raw", a.raw, "print each body as it is, one per line");
  app.add_option("--user", a.user, "owner part of the queue name (default: the login user)");

  Parsed<ListenArgs> p;
  if (!parse_cli(app, "pulse-listen", argc, argv, p.exit_code, p.message)) return p;

  // CLI11 keeps each option's values in order; parse_order() says how they interleave.
  size_t next_exchange = 0, next_topic = 0;
  std::vector<bool> has_topic;
  for (const CLI::Option* opt : app.parse_order()) {
    if (opt == exchange_opt) {
      a.bindings.push_back({exchanges.at(next_exchange++), "#"});
      has_topic.push_back(false);
    } else if (opt == topic_opt) {
      if (a.bindings.empty())
        return usage("--topic '" + topics.at(next_topic) + "' comes before any --exchange");
      const std::string& topic = topics.at(next_topic++);
      if (has_topic.back()) {
        a.bindings.push_back({a.bindings.back().exchange, topic});
        has_topic.push_back(true);
      } else {
        a.bindings.back().topic = topic;
        has_topic.back() = true;
      }
    }
  }
  for (const Binding& b : a.bindings) {
    if (b.exchange.empty()) return usage("--exchange: the default exchange cannot be bound");
  }
  if (a.durable && a.applabel.empty()) return usage("--durable needs --applabel");
  if (!a.user.empty() && !valid_user_name(a.user)) {
    return usage("--user '" + a.user + "' is not a Pulse user name ([a-zA-Z][a-zA-Z0-9._-]*)");
  }
  if (expires_opt->count() > 0) a.expires = std::chrono::milliseconds(expires_ms);
  auto endpoints = resolve_endpoints(uri, env_uri);
  if (!endpoints) return usage(endpoints.error().text);
  a.endpoints = std::move(*endpoints);
  p.args = std::move(a);
  return p;
}

ConsumerOptions consumer_options(const ListenArgs& a) {
  ConsumerOptions o;
  o.recovery.endpoints = a.endpoints;
  o.bindings = a.bindings;
  o.user = a.user;
  o.applabel = a.applabel;
  o.durable = a.durable;
  o.expires = a.expires;
  o.prefetch = a.prefetch;
  // No more in flight than --count asks for: the surplus would only be requeued at exit.
  if (a.count > 0 && a.count < o.prefetch) o.prefetch = static_cast<uint16_t>(a.count);
  return o;
}

}  // namespace pulse::tools
