#include "publish_args.h"

#include "pulse/routing.h"

namespace pulse::tools {

namespace {

constexpr const char* kFooter = R"(
Reads JSON lines from stdin (or --file), one message each; empty lines are skipped. Prints
"pulse-publish: N published, C confirmed, F failed" on stderr at the end.

Exit status:
  0  every line was published and confirmed
  1  a line was not JSON, or a message was refused or not confirmed before --deadline
  2  usage error)";

Parsed<PublishArgs> usage(const std::string& text) {
  return usage_error<PublishArgs>("pulse-publish", text);
}

}  // namespace

Parsed<PublishArgs> parse_publish_args(int argc, const char* const* argv, const char* env_uri) {
  PublishArgs a;
  std::string uri;
  bool no_envelope = false, no_declare = false, transient = false, persistent = false;
  int64_t deadline_ms = a.deadline.count();
  CLI::App app{"pulse-publish: publish JSON lines to a Pulse exchange, each confirmed"};
  app.footer(kFooter);
  add_uri_option(app, uri);
  app.add_option("--exchange", a.exchange, "exchange to publish to")->required();
  app.add_option("--routing-key", a.routing_key, "routing key of every message")->required();
  app.add_flag("--no-envelope", no_envelope,
               "send each line as the body as it is, without the Pulse envelope");
  auto* p_opt = app.add_flag("--persistent", persistent, "delivery_mode 2 (the default)");
  auto* t_opt = app.add_flag("--transient", transient, "delivery_mode 1");
  p_opt->excludes(t_opt);
  app.add_option("--file", a.file, "read the lines from this file instead of stdin");
  app.add_option("--route", a.routes, "custom route, sent as CC route.<R> (repeatable)");
  app.add_option("--deadline", deadline_ms,
                 "ms a message may take to be confirmed, reconnects included")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-declare", no_declare,
               "do not declare the exchange (for exchanges the user may not configure)");

  Parsed<PublishArgs> p;
  if (!parse_cli(app, "pulse-publish", argc, argv, p.exit_code, p.message)) return p;
  if (a.exchange.empty()) return usage("--exchange: the default exchange is not a Pulse exchange");
  if (auto st = check_routing_key(a.routing_key); !st) return usage(st.error().text);
  for (const std::string& route : cc_routes(a.routes)) {
    if (auto st = check_routing_key(route); !st) return usage("--route: " + st.error().text);
  }
  a.envelope = !no_envelope;
  a.persistent = !transient;
  a.declare = !no_declare;
  a.deadline = std::chrono::milliseconds(deadline_ms);
  auto endpoints = resolve_endpoints(uri, env_uri);
  if (!endpoints) return usage(endpoints.error().text);
  a.endpoints = std::move(*endpoints);
  p.args = std::move(a);
  return p;
}

PublisherOptions publisher_options(const PublishArgs& a) {
  PublisherOptions o;
  o.recovery.endpoints = a.endpoints;
  o.deadline = a.deadline;
  o.declare_exchanges = a.declare;
  return o;
}

PublishOptions publish_options(const PublishArgs& a) {
  PublishOptions o;
  o.persistent = a.persistent;
  o.routes = a.routes;
  return o;
}

}  // namespace pulse::tools
