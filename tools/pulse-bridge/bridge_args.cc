#include "bridge_args.h"

#include "base/log.h"
#include "base/url.h"

namespace pulse::bridge {
namespace {

constexpr const char* kProgram = "pulse-bridge";

constexpr const char* kDescription =
    R"(pulse-bridge: other systems' events as Pulse messages

One daemon, one config file, several named sources: GitHub webhooks, an authenticated JSON
POST publisher and Bugzilla push events received over HTTP (--listen), HTTP JSON feeds and
hg pushlogs polled. Every message goes out in the Pulse envelope through one recovering
publisher with confirms; a webhook is answered 202 only once the broker confirmed it.)";

constexpr const char* kFooter =
    R"(
CONFIGURATION (--config FILE, required)
  pulsed's config syntax ('key = value', '#' comments); only pulse.bridge.* keys, anything
  else is refused with FILE:LINE (exit 2).
    pulse.bridge.listen = 127.0.0.1:15690        # webhooks, /health, /metrics
    pulse.bridge.state_dir = /var/lib/pulse-bridge   # the pollers' cursors
    pulse.bridge.declare_exchanges = true        # durable topic, before the first publish
    pulse.bridge.publish_deadline = 10           # seconds a message may wait for its confirm
    pulse.bridge.sources.<name>.type = github | publish | bugzilla | json_feed | hg_pushlog
    pulse.bridge.sources.<name>.exchange = exchange/<user>/...   (defaults: README.md)
    pulse.bridge.sources.<name>.secret_env = VAR  # or .secret = ...: HMAC key / bearer token
    pulse.bridge.sources.<name>.url = https://...  # pollers
    pulse.bridge.sources.<name>.interval = 60      # seconds (pollers)
    (and events, max_body, id_field, items_field, routing_key, reverse, start_id, batch, full,
     max_backoff, timeout: README.md)

HTTP (--listen)
  POST /hooks/<name>     GitHub (X-Hub-Signature-256 checked; ping answered 200)
  POST /publish/<name>   JSON body, Authorization: Bearer <secret>, routing key from
                         X-Pulse-Routing-Key or ?routing_key=
  POST /bugzilla/<name>  Bugzilla push, Authorization: Bearer <secret>; private data dropped
  GET  /health, /health/<name>, /metrics (Prometheus)
  202 once confirmed; 4xx with {"error","reason"}; 503 + Retry-After when the broker is down.

EXIT STATUS
  0 stopped by SIGINT/SIGTERM; 2 usage error, bad --config, cannot listen, damaged cursor.)";

tools::Parsed<BridgeArgs> usage(const std::string& text) {
  return tools::usage_error<BridgeArgs>(kProgram, text);
}

}  // namespace

tools::Parsed<BridgeArgs> parse_bridge_args(int argc, const char* const* argv,
                                            const char* env_uri) {
  BridgeArgs a;
  std::string uri;
  CLI::App app{kDescription};
  app.footer(kFooter);
  tools::add_uri_option(app, uri);
  app.add_option("--config", a.config, "the sources (required; see CONFIGURATION)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", a.listen,
                 "HOST:PORT of the webhooks, /health and /metrics (overrides "
                 "pulse.bridge.listen; a bare port listens on 127.0.0.1)");
  app.add_option("--listen-cert", a.listen_cert, "PEM certificate chain: --listen is HTTPS")
      ->check(CLI::ExistingFile);
  app.add_option("--listen-key", a.listen_key, "PEM private key of --listen-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--state-dir", a.state_dir,
                 "directory of the pollers' cursor files (overrides pulse.bridge.state_dir)");
  app.add_flag("--dry-run", a.dry_run,
               "print each message that would be published (one JSON line: exchange, "
               "routing_key, body) and publish nothing; no broker needed, cursors not saved");
  app.add_option("--log-level", a.log_level, "debug, info, warning, error, none")
      ->capture_default_str();

  tools::Parsed<BridgeArgs> p;
  if (!tools::parse_cli(app, kProgram, argc, argv, p.exit_code, p.message)) return p;
  if (a.config.empty()) return usage("--config FILE is required");
  if (!set_log_level(a.log_level)) return usage("--log-level: unknown level '" + a.log_level + "'");
  if (!a.listen.empty() && !parse_host_port(a.listen))
    return usage("--listen: '" + a.listen + "' is not HOST:PORT");
  if (a.listen_cert.empty() != a.listen_key.empty())
    return usage("--listen-cert and --listen-key go together");
  auto endpoints = tools::resolve_endpoints(uri, env_uri);
  if (!endpoints) return usage(endpoints.error().text);
  a.endpoints = std::move(*endpoints);
  p.args = std::move(a);
  return p;
}

}  // namespace pulse::bridge
