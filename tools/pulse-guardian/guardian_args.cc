#include "guardian_args.h"

#include "base/log.h"
#include "base/url.h"
#include "mgmt/http_client.h"
#include "pulse/endpoints.h"

namespace pulse::tools {
namespace {

constexpr const char* kProgram = "pulse-guardian";

constexpr const char* kDescription =
    R"(pulse-guardian: PulseGuardian for a RabbitMQ node or cluster (or pulsed)

Polls the management HTTP API every pulse.guardian.interval seconds, warns the owner of a
queue grown past pulse.guardian.warn_queue_size messages, deletes it past
pulse.guardian.delete_queue_size and says so, as pulsed's built-in guardian does. The user
given with -u must see every queue it is to guard (the administrator tag, or the management
tag for its own vhosts) and may delete them (configure permission).)";

constexpr const char* kFooter =
    R"(
CONFIGURATION (--config FILE)
  pulsed's config syntax: one 'key = value' per line, '#' comments, 'quoted' values. Only
  pulse.guardian.*, pulse.smtp.* and pulse.accounts.* keys; any other key, an unknown pulse
  key or a bad value is refused with FILE:LINE (exit 2). pulse.guardian.enabled defaults to true here; a file
  that sets it to false is refused (exit 2): the guardian it names is off.
    pulse.guardian.interval = 5              # seconds between polls
    pulse.guardian.warn_queue_size = 2000    # messages
    pulse.guardian.delete_queue_size = 8000
    pulse.guardian.owners.<owner>.delete_queue_size = 20000
    pulse.guardian.unbounded.<name> = <queue>   (.vhost = <vhost>, default /)
    pulse.guardian.idle_queue_expiry = 0     # seconds, 0: off
    pulse.guardian.max_connection_age = 0    # seconds, 0: off
    pulse.smtp.host = smtp.example.org       # email is off without a host
    pulse.smtp.from = pulse@example.org
    pulse.smtp.admins.1 = ops@example.org
    pulse.smtp.owner_domain = example.org    (and port, tls, username, password, ...)
    pulse.accounts.vhosts = /                (and reserved_users, rotation_interval,
    pulse.accounts.connection_url = amqps://rabbit.example:5671   for --listen's API)

NOTICES
  Every notice is logged (info) and, unless --amqp-url none, published in the Pulse
  envelope on exchange/pulse/guardian with routing key <event>.<owner> (events: warning,
  back_to_normal, deleted, idle_deleted, connection_closed). The exchange is declared
  (durable topic) when missing; a user that may not configure it gets an error line and
  the guardian runs on without publishing. With pulse.smtp.host set, notices are mailed.

)"
    "Environment: PULSECTL_URL, PULSECTL_USER, PULSECTL_PASSWORD, PULSECTL_CACERT."
    R"(

THE ADMIN UI AND PULSE'S HTTP API (--listen HOST:PORT --state-file PATH)
  Serves, as pulsed does, in front of RabbitMQ:
  - the admin UI at / (and /ui/..., /inspector/...) from --web-dir, else share/pulse/web
    beside the binary's directory; sign in with a RabbitMQ user with a management tag;
  - /api/pulse/... (owners, Pulse users, namespace claims, the guardian's settings, notices
    and unbounded flags): Basic credentials are checked by RabbitMQ's GET /api/whoami,
    accounts are made as RabbitMQ users by -u (which needs the administrator tag), records
    are kept in --state-file;
  - every other /api/... request is passed on to --url's management API as it came (method,
    path, query, body up to 20 MiB, the client's Authorization, Content-Type and X-Reason)
    and RabbitMQ's answer comes back; RabbitMQ unreachable: 503. These run on 4 threads of
    their own (64 more may wait), so they never hold the polls.
  HTTPS with --listen-cert and --listen-key.

SIGNALS
  SIGINT, SIGTERM: stop after the poll in progress (a request is bounded by --timeout);
  a second signal exits at once.

EXIT STATUS
   0  stopped by a signal, or --once and the poll succeeded
   1  --once: the broker refused or failed the listing (its reason is logged)
   2  usage error, bad --config
  69  --once: the management API is unreachable (refused, unknown host, timed out, TLS)
  77  --once: login refused (HTTP 401: bad credentials, or a user without a management tag)
  Without --once an unreachable or refusing broker is logged once and polled again with
  growing delays (10, 15, 20, ... s for a 5 s interval, up to 300 s), as PulseGuardian.)";

Parsed<GuardianArgs> usage(const std::string& text) {
  return usage_error<GuardianArgs>(kProgram, text);
}

}  // namespace

Parsed<GuardianArgs> parse_guardian_args(int argc, const char* const* argv) {
  GuardianArgs a;
  CLI::App app{kDescription};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("pulse-guardian ") + PULSE_VERSION);
  add_mgmt_options(app, a.mgmt);
  app.add_option("--config", a.config,
                 "file of pulse.guardian.* and pulse.smtp.* keys (default: none, the defaults: "
                 "every 5 s, warn over 2000, delete over 8000 messages, no email)")
      ->check(CLI::ExistingFile);
  app.add_option("--amqp-url", a.amqp_url,
                 "where notices are published: amqp[s]:// URI or a list of a cluster's nodes, "
                 "or 'none' (default: --url's host, port 5672, --url's user and password, "
                 "vhost /; amqps:// on 5671 for an https:// --url)");
  app.add_flag("--once", a.once, "poll once, deliver the notices, exit (scripts, tests)");
  app.add_option("--log-level", a.log_level, "debug, info, warning, error, none")
      ->capture_default_str();
  app.add_option("--listen", a.listen,
                 "serve the admin UI, Pulse's HTTP API (/api/pulse/...) and RabbitMQ's "
                 "management API (passed on to --url) on HOST:PORT (default: off; "
                 "suggested 127.0.0.1:" +
                     std::to_string(kSuggestedListenPort) + ")");
  app.add_option("--listen-cert", a.listen_cert, "PEM certificate chain: --listen is HTTPS")
      ->check(CLI::ExistingFile);
  app.add_option("--listen-key", a.listen_key, "PEM private key of --listen-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--state-file", a.state_file,
                 "where owners, Pulse users, claims and the guardian's API settings are kept "
                 "(JSON, mode 0600); required with --listen");
  app.add_option("--web-dir", a.web_dir,
                 "directory of the admin UI's files served by --listen (default: "
                 "share/pulse/web beside the binary's directory, or a build tree's web/)")
      ->check(CLI::ExistingDirectory);

  Parsed<GuardianArgs> p;
  if (!parse_cli(app, kProgram, argc, argv, p.exit_code, p.message)) return p;
  if (auto url = mgmt::parse_url(a.mgmt.url); !url) return usage(url.error().text);
  if (!set_log_level(a.log_level)) return usage("--log-level: unknown level '" + a.log_level + "'");
  if (!a.listen.empty()) {
    auto hp = parse_host_port(a.listen);
    if (!hp) return usage("--listen: '" + a.listen + "' is not HOST:PORT");
    a.listen_host = hp->host.empty() ? "127.0.0.1" : hp->host;
    a.listen_port = hp->port;
    if (a.state_file.empty()) return usage("--listen needs --state-file");
    if (a.once) return usage("--listen and --once exclude each other");
  } else if (!a.listen_cert.empty() || !a.listen_key.empty() || !a.state_file.empty() ||
             !a.web_dir.empty()) {
    return usage("--listen-cert, --listen-key, --state-file and --web-dir go with --listen");
  }
  if (a.listen_cert.empty() != a.listen_key.empty())
    return usage("--listen-cert and --listen-key go together");
  if (!a.amqp_url.empty() && a.amqp_url != kAmqpNone) {
    if (auto list = parse_uri_list(a.amqp_url); !list) {
      return usage("--amqp-url: " + list.error().text);
    }
  }
  p.args = std::move(a);
  return p;
}

Result<std::vector<client::ConnectionOptions>> notice_endpoints(const GuardianArgs& a) {
  if (a.amqp_url == kAmqpNone) return std::vector<client::ConnectionOptions>{};
  if (!a.amqp_url.empty()) {
    auto list = parse_uri_list(a.amqp_url);
    if (!list) return Error{kExitUsage, "--amqp-url: " + list.error().text};
    return list;
  }
  auto url = mgmt::parse_url(a.mgmt.url);
  if (!url) return Error{kExitUsage, url.error().text};
  client::ConnectionOptions o;
  o.host = url->host;
  o.tls = url->tls;
  o.port = url->tls ? 5671 : 5672;
  o.tls_options.cacertfile = a.mgmt.tls.cacert;
  o.tls_options.verify_peer = !a.mgmt.tls.insecure;
  o.user = a.mgmt.user;
  o.password = a.mgmt.password;
  o.vhost = "/";
  return std::vector<client::ConnectionOptions>{o};
}

std::string describe_endpoints(const std::vector<client::ConnectionOptions>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) {
    if (!out.empty()) out += ", ";
    out += (e.tls ? "amqps://" : "amqp://") + e.user + "@" + host_port(e) + "/" +
           (e.vhost == "/" ? "%2F" : e.vhost);
  }
  return out;
}

}  // namespace pulse::tools
