// pulsed: the Pulse broker process.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/amqps_listeners.h"
#include "app/boot.h"
#include "app/config.h"
#include "app/guardian_host.h"
#include "app/https_listeners.h"
#include "app/management.h"
#include "app/persistence.h"
#include "app/pulse_service.h"
#include "app/reload.h"
#include "app/stomp_listeners.h"
#include "app/web_stomp_listeners.h"
#include "base/listen.h"
#include "base/log.h"
#include "definitions/json.h"
#include "http/api.h"
#include "http/http_server.h"
#include "httpd/web_dir.h"
#include "persist/queue_storage.h"
#include "server/asio.h"
#include "server/connection_limits.h"
#include "server/server.h"
#include "store/data_dir.h"

namespace {

using pulse::app::Config;
using pulse::app::Listener;

struct Flags {
  std::string data_dir;
  std::string amqp_listen;
  std::string amqps_listen;
  std::string stomp_listen;
  std::string stomps_listen;
  std::string web_stomp_listen;
  std::string web_stomps_listen;
  std::string http_listen;
  std::string prometheus_listen;
  std::string https_listen;
  std::string config_file;
  std::string definitions_file;
  std::string log_level;
  std::string web_dir;
};

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "pulsed: " << msg << std::endl;
  std::exit(2);
}

// Returns an exit code when pulsed must stop here (--help, a malformed command line).
std::optional<int> parse_flags(int argc, char** argv, Flags& flags) {
  CLI::App cli{"pulsed: the Pulse message broker (AMQP 0-9-1)"};
  cli.add_option("--data-dir", flags.data_dir,
                 "data directory (default ./var/pulse or $PULSE_DATA_DIR)");
  cli.add_option("--amqp-listen", flags.amqp_listen,
                 "AMQP listener HOST:PORT or [IPV6]:PORT (default 127.0.0.1:5672 and [::1]:5672)");
  cli.add_option("--amqps-listen", flags.amqps_listen,
                 "AMQPS (AMQP over TLS) listener HOST:PORT, replacing listeners.ssl.* "
                 "(ssl_options.certfile and .keyfile from --config)");
  cli.add_option("--stomp-listen", flags.stomp_listen,
                 "STOMP listener HOST:PORT, replacing stomp.listeners.tcp.* (default "
                 "127.0.0.1:61613)");
  cli.add_option("--stomps-listen", flags.stomps_listen,
                 "STOMP over TLS listener HOST:PORT, replacing stomp.listeners.ssl.* "
                 "(ssl_options.certfile and .keyfile from --config)");
  cli.add_option("--web-stomp-listen", flags.web_stomp_listen,
                 "Web-STOMP (STOMP over WebSocket) listener HOST:PORT, replacing web_stomp.tcp.* "
                 "(default 127.0.0.1:15674)");
  cli.add_option("--web-stomps-listen", flags.web_stomps_listen,
                 "Web-STOMP over TLS listener HOST:PORT, replacing web_stomp.ssl.ip/port "
                 "(web_stomp.ssl.certfile and .keyfile from --config)");
  cli.add_option("--http-listen", flags.http_listen,
                 "management HTTP API listener HOST:PORT (default 127.0.0.1:15672)");
  cli.add_option("--web-dir", flags.web_dir,
                 "directory of the pages served at /inspector and /examples (default: "
                 "share/pulse/web beside the binary's directory)");
  cli.add_option("--prometheus-listen", flags.prometheus_listen,
                 "Prometheus /metrics listener HOST:PORT (default 127.0.0.1:15692)");
  cli.add_option("--https-listen", flags.https_listen,
                 "management API HTTPS listener HOST:PORT (management.ssl.certfile and "
                 ".keyfile from --config)");
  cli.add_option("--config", flags.config_file,
                 "rabbitmq.conf-style configuration file (re-read on SIGHUP)");
  cli.add_option("--definitions", flags.definitions_file,
                 "RabbitMQ definitions JSON to import at boot");
  cli.add_option("--log-level", flags.log_level, "debug, info, warning, error, none");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  return std::nullopt;
}

Config load_config(const Flags& flags) {
  Config config;
  if (!flags.config_file.empty()) {
    auto c = pulse::app::load_config_file(flags.config_file);
    if (!c) die(c.error().text);
    config = std::move(*c);
  }
  std::string level = flags.log_level.empty() ? config.log_console_level : flags.log_level;
  if (!pulse::set_log_level(level)) die("unknown log level '" + level + "'");
  return config;
}

std::string data_dir_of(const Flags& flags) {
  if (!flags.data_dir.empty()) return flags.data_dir;
  const char* env = std::getenv("PULSE_DATA_DIR");
  return env && *env ? env : "./var/pulse";
}

// A --*-listen flag replaces the configured listeners of its kind.
std::vector<Listener> listeners_of(std::vector<Listener> configured, const std::string& flag,
                                   const char* flag_name) {
  if (flag.empty()) return configured;
  auto l = pulse::app::parse_listener(flag);
  if (!l) die(std::string("invalid ") + flag_name + " '" + flag + "' (expected HOST:PORT)");
  return {*l};
}

pulse::auth::FailureLimitOptions auth_failure_limit(const Config& c) {
  pulse::auth::FailureLimitOptions o;
  o.max_failures = c.auth_failure_max_failures;
  o.window = std::chrono::milliseconds(c.auth_failure_window_ms);
  o.block_for = std::chrono::milliseconds(c.auth_failure_block_for_ms);
  o.max_tracked = c.auth_failure_max_tracked;
  o.exempt_loopback = c.auth_failure_exempt_loopback;
  return o;
}

pulse::server::ServerOptions server_options(const Config& c) {
  pulse::server::ServerOptions o;
  o.channel_max = c.channel_max;
  o.frame_max = c.frame_max;
  o.heartbeat = c.heartbeat;
  o.handshake_timeout_ms = c.handshake_timeout_ms;
  o.consumer_timeout_ms = c.consumer_timeout_ms;
  o.max_message_size = c.max_message_size;
  o.connection_max = c.connection_max.value_or(0);
  o.loopback_users = c.loopback_users;
  o.auth_mechanisms = c.auth_mechanisms;
  o.cert_login = c.ssl_cert_login;
  o.auth_failure_limit = auth_failure_limit(c);
  o.memory_high_watermark = c.memory_high_watermark_absolute.value_or(static_cast<uint64_t>(
      c.memory_high_watermark_relative *
      static_cast<double>(pulse::server::ResourceMonitor::total_memory_bytes())));
  o.disk_free_limit = c.disk_free_limit_absolute.value_or(
      c.disk_free_limit_relative
          ? static_cast<uint64_t>(
                *c.disk_free_limit_relative *
                static_cast<double>(pulse::server::ResourceMonitor::total_memory_bytes()))
          : pulse::app::kDefaultDiskFreeLimit);
  return o;
}

pulse::broker::PagingLimits paging_limits(const Config& c, uint64_t memory_high_watermark) {
  pulse::broker::PagingLimits paging;
  paging.queue_bytes = c.paging_queue_memory_limit;
  paging.global_bytes = c.paging_global_memory_limit.value_or(static_cast<uint64_t>(
      c.memory_high_watermark_paging_ratio * static_cast<double>(memory_high_watermark)));
  return paging;
}

// --definitions, else load_definitions, else definitions.local.path: imported at every start.
std::string boot_definitions_path(const Flags& flags, const Config& config) {
  if (!flags.definitions_file.empty()) return flags.definitions_file;
  return !config.load_definitions.empty() ? config.load_definitions : config.definitions_local_path;
}

// The broker's part of the boot definitions; their "pulse" section (read first, so a damaged
// one stops the start before anything is applied) is returned for the PulseService.
std::optional<pulse::api::PulseSection> import_boot_definitions(
    const std::string& path, pulse::broker::Broker& broker, pulse::auth::AuthStore& auth,
    pulse::store::DefinitionsStore& store, pulse::app::DefinitionsPersister& persister) {
  if (path.empty()) return std::nullopt;
  auto defs = pulse::definitions::load_definitions_file(path);
  if (!defs) die(path + ": " + defs.error().text);
  auto section = pulse::app::read_pulse_section(path);
  if (!section) die(section.error().text);
  if (auto s = pulse::app::import_definitions(*defs, broker, auth, store, persister); !s)
    die(path + ": " + s.error().text);
  spdlog::info("imported definitions from {}", path);
  return std::move(*section);
}

// Binds each listener through `listen` (Server::listen or HttpServer::listen) and records the
// bound address for the management API. A listener that cannot bind stops the start, naming
// its address and the reason; only the default IPv6 loopback listener is skipped (with a log
// line) on a machine without IPv6.
template <typename Listen>
void start_listeners(const std::vector<Listener>& listeners, const char* protocol,
                     const char* label, Listen&& listen,
                     std::vector<pulse::http::ListenerInfo>& bound) {
  for (const auto& l : listeners) {
    if (!l.required) {
      if (auto s = pulse::ipv6_loopback_available(); !s) {
        spdlog::warn("{}not listening on {} ({}): IPv6 loopback unavailable ({})", label,
                     pulse::format_host_port(l.host, l.port), protocol, s.error().text);
        continue;
      }
    }
    auto ep = listen(l.host.empty() ? "0.0.0.0" : l.host, l.port);
    if (!ep) die(ep.error().text);
    std::string ip = ep->address().to_string();
    spdlog::info("{}listening on {}", label, pulse::format_host_port(ip, ep->port()));
    bound.push_back({protocol, ip, ep->port()});
  }
}

// Re-armed after each reload, until shutdown cancels it. TLS certificates and keys are
// re-read too: new handshakes use them, open connections keep theirs.
void watch_reload(boost::asio::signal_set& hup, const Flags& flags, Config& running,
                  pulse::app::TlsRegistry& tls, const pulse::app::PulseReload& pulse) {
  hup.async_wait([&hup, &flags, &running, &tls, &pulse](boost::system::error_code ec, int) {
    if (ec) return;
    pulse::app::reload_config(flags.config_file, flags.log_level, running, pulse);
    tls.reload();
    watch_reload(hup, flags, running, tls, pulse);
  });
}

// A node runs for months: the log warns as a certificate's expiry approaches, not only at start
// and on reload.
void warn_expiring_daily(boost::asio::steady_timer& timer, const pulse::app::TlsRegistry& tls) {
  timer.expires_after(std::chrono::hours(24));
  timer.async_wait([&timer, &tls](boost::system::error_code ec) {
    if (ec) return;
    tls.warn_expiring(std::chrono::hours(24 * 30));
    warn_expiring_daily(timer, tls);
  });
}

}  // namespace

int main(int argc, char** argv) {
  pulse::init_logging();
  Flags flags;
  if (auto rc = parse_flags(argc, argv, flags)) return *rc;
  Config config = load_config(flags);
  const std::string data_dir = data_dir_of(flags);
  auto amqp_listeners = listeners_of(config.tcp_listeners, flags.amqp_listen, "--amqp-listen");
  auto amqps_listeners = listeners_of(config.ssl_listeners, flags.amqps_listen, "--amqps-listen");
  auto stomp_listeners =
      listeners_of(config.stomp_tcp_listeners, flags.stomp_listen, "--stomp-listen");
  auto stomps_listeners =
      listeners_of(config.stomp_ssl_listeners, flags.stomps_listen, "--stomps-listen");
  if (!stomps_listeners.empty() &&
      (config.ssl_options.certfile.empty() || config.ssl_options.keyfile.empty()))
    die("--stomps-listen needs ssl_options.certfile and ssl_options.keyfile in --config");
  // Only the .ssl listener of a plugin configured: no plaintext one (a flag still forces it).
  auto plain = [](bool wanted, Listener l) {
    return wanted ? std::vector<Listener>{std::move(l)} : std::vector<Listener>{};
  };
  const auto& wl = config.web_stomp_listeners;
  auto web_stomp_listeners =
      listeners_of(plain(wl.tcp_enabled, {"web_stomp", wl.tcp_ip, wl.tcp_port}),
                   flags.web_stomp_listen, "--web-stomp-listen");
  auto web_stomps_listeners =
      listeners_of(plain(wl.ssl_configured, {"web_stomp_ssl", wl.ssl_ip, wl.ssl_port.value_or(0)}),
                   flags.web_stomps_listen, "--web-stomps-listen");
  if (!web_stomps_listeners.empty() && (wl.ssl.certfile.empty() || wl.ssl.keyfile.empty()))
    die("--web-stomps-listen needs web_stomp.ssl.certfile and web_stomp.ssl.keyfile in --config");
  if (!flags.https_listen.empty()) {
    if (auto s = pulse::app::apply_https_listen_flag(config, flags.https_listen); !s)
      die(s.error().text);
  }
  auto http_listeners =
      listeners_of(plain(pulse::app::plaintext_http_wanted(config.management_tcp_configured,
                                                           config.management_ssl),
                         {"management", config.management_ip, config.management_port}),
                   flags.http_listen, "--http-listen");
  auto prometheus_listeners =
      listeners_of(plain(pulse::app::plaintext_http_wanted(config.prometheus_tcp_configured,
                                                           config.prometheus_ssl),
                         {"prometheus", config.prometheus_ip, config.prometheus_port}),
                   flags.prometheus_listen, "--prometheus-listen");

  // Destruction runs in reverse: the broker (and its queues' stores) goes before the storage
  // it writes through, and the storage before the loop its completions are posted to.
  boost::asio::io_context io(1);
  // SIGHUP is caught from here on (handled once the loop runs), so it cannot kill pulsed.
  boost::asio::signal_set hup(io, SIGHUP);
  // Every TLS listener's context (reloaded on SIGHUP) and address.
  pulse::app::TlsRegistry tls_registry;

  // A directory of another layout, or a damaged definitions database, stops the start (exit
  // 2): resetting it would silently lose every durable definition and message.
  auto dir = pulse::store::DataDir::open(data_dir);
  if (!dir) die(dir.error().text);
  auto store = (*dir)->open_definitions();
  if (!store) die(store.error().text);
  pulse::app::DefinitionsPersister persister(**store);

  std::unique_ptr<pulse::persist::QueueStorage> queues;
  pulse::broker::Broker broker;
  queues = std::make_unique<pulse::persist::QueueStorage>(
      **dir, broker, [&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); });
  auto options = server_options(config);
  broker.set_message_storage(queues.get());
  // Definition commits stop fsyncing on the loop: the group commit syncs the WAL instead.
  if (auto s = (*store)->set_commit_sync(false); !s) die(s.error().text);
  broker.set_paging_limits(paging_limits(config, options.memory_high_watermark));

  // RabbitMQ's default cluster name is the node name; a stored or configured one replaces it.
  char hostname[256] = "localhost";
  ::gethostname(hostname, sizeof hostname - 1);
  const std::string node_name = std::string("pulsed@") + hostname;
  broker.global_parameters().set_default_cluster_name(node_name);

  pulse::auth::AuthStore auth;
  auth.set_strict_namespaces(config.pulse_namespaces_strict);
  if (auto s = pulse::app::boot_from_store(**store, (*dir)->initialised_now(), config, broker, auth,
                                           persister, queues.get());
      !s)
    die(data_dir + ": " + s.error().text);

  const std::string boot_definitions = boot_definitions_path(flags, config);
  auto boot_pulse = import_boot_definitions(boot_definitions, broker, auth, **store, persister);

  if (auto s = queues->watch_definitions_wal((*store)->wal_path()); !s) die(s.error().text);
  queues->definitions_changed();  // boot-time changes are synced by the first group commit
  options.data_dir = data_dir;
  pulse::server::Server server(io, broker, auth, options);
  pulse::server::EventLoop loop(io, std::chrono::microseconds(config.io_gather_window_us));
  server.set_event_loop(&loop);

  // The management API runs on the same loop: its handlers read broker state directly.
  pulse::app::ManagementContext mctx{broker, auth, **store,       persister, server, {}, 0,
                                     0,      {},   &tls_registry, {},        {},     {}};
  start_listeners(
      amqp_listeners, "amqp", "",
      [&](const std::string& host, uint16_t port) { return server.listen(host, port); },
      mctx.listeners);
  if (auto s = pulse::app::start_amqps_listeners(amqps_listeners, config, tls_registry, server,
                                                 mctx.listeners);
      !s)
    die(s.error().text);
  pulse::stomp_server::StompOptions stomp_options = config.stomp;
  stomp_options.loopback_users = config.loopback_users;
  stomp_options.max_output_backlog = options.max_output_backlog;
  stomp_options.consumer_timeout_ms = options.consumer_timeout_ms;
  pulse::stomp_server::StompServer stomp(io, broker, auth, server.auth_failures(), stomp_options);
  server.on_vhost_deleting([&stomp](const std::string& vhost) { stomp.vhost_deleting(vhost); });
  // RabbitMQ counts STOMP sessions (one channel each) toward the vhost and user limits.
  server.set_other_connections([&stomp](const auto& each) {
    for (const auto& s : stomp.sessions())
      if (s->connected()) each({s->vhost_name(), s->user(), 1});
  });
  pulse::stomp_server::LimitChecks stomp_limits;
  stomp_limits.connection = [&server](const pulse::broker::VHost& vh, const std::string& user) {
    return pulse::server::check_connection_limits(server, vh, user);
  };
  stomp_limits.channel = [&server](const std::string& user) {
    return pulse::server::check_channel_limit(server, user);
  };
  stomp_limits.alarmed = [&server] { return server.alarmed(); };
  stomp.set_limit_checks(std::move(stomp_limits));
  server.on_alarm_cleared([&stomp] { stomp.alarm_cleared(); });
  if (auto s = pulse::app::start_stomp_listeners(stomp_listeners, stomps_listeners, config,
                                                 tls_registry, stomp, mctx.listeners);
      !s)
    die(s.error().text);
  mctx.stomp = &stomp;
  // Web-STOMP: its own listeners and /ws on the HTTP listeners (set below), sessions in `stomp`.
  pulse::web_stomp::WebStompServer web_stomp(io, stomp, config.web_stomp, stomp_options);
  {
    auto first = [](const std::vector<Listener>& v) {
      return v.empty() ? std::nullopt : std::optional<Listener>(v.front());
    };
    if (auto s = pulse::app::start_web_stomp_listeners(first(web_stomp_listeners),
                                                       first(web_stomps_listeners), config,
                                                       tls_registry, web_stomp, mctx.listeners);
        !s)
      die(s.error().text);
  }
  mctx.memory_high_watermark = options.memory_high_watermark;
  mctx.disk_free_limit = options.disk_free_limit;
  mctx.data_dir = data_dir;
  // Pulse's accounts and /api/pulse (pulse.accounts.*); a damaged record stops the start.
  pulse::app::PulseService pulse_service(io, mctx, config.accounts, config.push);
  if (auto s = pulse_service.start(); !s) die(data_dir + ": " + s.error().text);
  if (boot_pulse) {
    if (auto s = pulse_service.import_section(*boot_pulse); !s)
      die(boot_definitions + ": " + s.error().text);
  }
  mctx.pulse_export = [&pulse_service] { return pulse_service.export_section(); };
  mctx.pulse_check = [&pulse_service](const pulse::api::PulseSection& p) {
    return pulse_service.check_import(p);
  };
  mctx.pulse_import = [&pulse_service](const pulse::api::PulseSection& p) {
    return pulse_service.import_section(p);
  };
  auto hooks = pulse::app::management_hooks(mctx);
  hooks.pulse_api = [&pulse_service](const pulse::http::Request& req,
                                     const pulse::auth::User& user) {
    return pulse_service.handle(req, user);
  };
  pulse::http::Api api(broker, auth, std::move(hooks), node_name);
  api.limit_auth_failures(auth_failure_limit(config));
  pulse::http::HttpOptions http_options;
  http_options.cors_allow_origins = config.management_cors_allow_origins;
  http_options.cors_max_age = config.management_cors_max_age;
  pulse::http::HttpServer http_server(io, api, http_options);
  http_server.set_upgrade_handler(&web_stomp);
  auto web_files = pulse::httpd::load_web_dir(flags.web_dir);
  if (!web_files) die(web_files.error().text);
  http_server.set_static_files(std::move(*web_files));
  start_listeners(
      http_listeners, "http", "management API ",
      [&](const std::string& host, uint16_t port) {
        return http_server.listen(host, port, /*metrics_only=*/false,
                                  config.management_tcp_timeouts);
      },
      mctx.listeners);
  // A second listener of the same server, answering /metrics only (rabbitmq_prometheus).
  start_listeners(
      prometheus_listeners, "http/prometheus", "Prometheus metrics ",
      [&](const std::string& host, uint16_t port) {
        return http_server.listen(host, port, /*metrics_only=*/true,
                                  config.prometheus_tcp_timeouts);
      },
      mctx.listeners);
  if (auto s = pulse::app::start_https_listeners(config, tls_registry, http_server, mctx.listeners);
      !s)
    die(s.error().text);

  // The guardian (pulse.guardian.enabled): on the loop, from a timer, over the in-process admin.
  pulse::app::GuardianHost guardian(io, mctx, pulse_service);
  guardian.start(config.guardian, config.smtp);
  // SIGHUP's pulse.guardian.*, pulse.smtp.* and pulse.accounts.* keys.
  const pulse::app::PulseReload pulse_reload = [&](const Config& next,
                                                   const std::vector<std::string>& keys) {
    const bool smtp_changed = std::ranges::any_of(
        keys, [](const std::string& k) { return k.starts_with("pulse.smtp."); });
    if (auto s = guardian.reconfigure(next.guardian, next.smtp, smtp_changed); !s) return s;
    pulse_service.set_account_settings(next.accounts);
    return pulse::Status();
  };

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int sig) {
    spdlog::info("received signal {}, shutting down", sig);
    hup.cancel();
    guardian.stop();
    pulse_service.stop();
    server.shutdown();
    web_stomp.shutdown();
    stomp.shutdown();
    http_server.shutdown();
    // Give connections a moment to flush their close frames, then stop.
    auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(200));
    timer->async_wait([&io, timer](boost::system::error_code) { io.stop(); });
  });
  tls_registry.warn_expiring(std::chrono::hours(24 * 30));
  watch_reload(hup, flags, config, tls_registry, pulse_reload);
  boost::asio::steady_timer expiry_timer(io);
  warn_expiring_daily(expiry_timer, tls_registry);
  std::signal(SIGPIPE, SIG_IGN);
  loop.run();
  // Whatever was written but not yet synced (acks, delivery marks) goes to disk now.
  queues->sync_now();
  if (auto s = queues->mark_clean_shutdown(); !s)
    spdlog::error("could not record the clean stop: {}", s.error().text);
  spdlog::info("stopped");
  return 0;
}
