#pragma once
// pulsed configuration: the rabbitmq.conf (cuttlefish, sysctl-like) format with RabbitMQ's key
// names and defaults. Defaults differ from RabbitMQ only where pulsed binds loopback by default
// (AMQP, HTTP). Unknown keys, keys of features pulsed does not have yet (TLS, STOMP, ...) and
// malformed values are start-up errors naming file, line and key, because RabbitMQ refuses to
// boot on them too: a setting that is accepted is a setting that is used.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "httpd/timeouts.h"
#include "pulse/accounts/settings.h"
#include "pulse/guardian/settings.h"
#include "pulse/push/engine.h"
#include "pulse/smtp/settings.h"
#include "stomp_server/options.h"
#include "tls/certificate.h"
#include "tls/options.h"
#include "web_stomp/options.h"

namespace pulse::app {

struct Listener {
  std::string name;  // the key suffix: "default" in listeners.tcp.default, "1" in ...tcp.1
  std::string host;  // empty = all interfaces (a bare port, as in RabbitMQ)
  uint16_t port = 0;
  // false: a listener pulsed adds on its own (IPv6 loopback) that is skipped, with a log line,
  // on a machine without that address family; configured listeners must bind.
  bool required = true;
  bool operator==(const Listener&) const = default;
};

inline constexpr uint64_t kDefaultDiskFreeLimit = 50'000'000;  // RabbitMQ: 50MB

struct Config {
  // listeners.tcp.<name>; setting any replaces the default; `listeners.tcp = none` disables.
  // The default answers on both loopbacks, as RabbitMQ's does, [::1] only where IPv6 exists.
  std::vector<Listener> tcp_listeners{{"default", "127.0.0.1", 5672},
                                      {"default", "::1", 5672, /*required=*/false}};

  // listeners.ssl.<name> (AMQPS; none unless configured, RabbitMQ's conventional port is 5671)
  // with ssl_options.* (RabbitMQ's names; see tls/options.h).
  std::vector<Listener> ssl_listeners;
  tls::ServerTlsOptions ssl_options;
  // auth_mechanisms.N: what connection.start offers, in order; empty means RabbitMQ's default
  // (PLAIN AMQPLAIN). EXTERNAL (client certificates) must be listed to be offered.
  std::vector<std::string> auth_mechanisms;
  // ssl_cert_login_from / ssl_cert_login_san_type / ssl_cert_login_san_index
  // (rabbitmq_auth_mechanism_ssl's keys).
  tls::CertLoginOptions ssl_cert_login;

  // stomp.listeners.tcp.<name> (default 127.0.0.1:61613, `= none` switches STOMP off) and
  // stomp.listeners.ssl.<name> (with ssl_options.*, as rabbitmq_stomp uses them).
  std::vector<Listener> stomp_tcp_listeners{{"default", "127.0.0.1", 61613}};
  std::vector<Listener> stomp_ssl_listeners;
  // stomp.default_user, .default_pass, .default_vhost, .default_topic_exchange,
  // .default_nack_requeue, .implicit_connect, .hide_server_info, .login_timeout.
  stomp_server::StompOptions stomp;
  uint32_t stomp_num_acceptors = 10;  // accepted for compatibility; one loop accepts

  // rabbitmq_web_stomp's keys. web_stomp.tcp.port / .ip (default 127.0.0.1:15674, the older
  // web_stomp.port too) or web_stomp.tcp.listener = IP:PORT | none; WSS when web_stomp.ssl.port
  // (or .listener) is set, with web_stomp.ssl.certfile, .keyfile and the other TLS options.
  // ws_path, ws_frame and ws_opts.* go into `web_stomp`.
  struct WebStompListeners {
    bool tcp_enabled = true;
    std::string tcp_ip = "127.0.0.1";
    uint16_t tcp_port = 15674;
    bool ssl_configured = false;
    std::string ssl_ip = "127.0.0.1";
    std::optional<uint16_t> ssl_port;
    tls::ServerTlsOptions ssl;
  };
  WebStompListeners web_stomp_listeners;
  uint32_t web_stomp_backlog = 128;  // web_stomp.{tcp,ssl}.backlog: accepted, the OS's is used
  web_stomp::WebStompOptions web_stomp;

  std::string default_user = "guest";
  std::string default_pass = "guest";
  std::string default_vhost = "/";
  std::string default_permissions_configure = ".*";
  std::string default_permissions_write = ".*";
  std::string default_permissions_read = ".*";
  // default_user_tags.<tag> = true; setting any replaces the default.
  std::vector<std::string> default_user_tags{"administrator"};
  // loopback_users.<user> = true|false (any setting replaces the default); `= none` empties.
  std::vector<std::string> loopback_users{"guest"};

  uint16_t heartbeat = 60;  // seconds
  uint32_t frame_max = 131072;
  uint16_t channel_max = 2047;
  uint64_t max_message_size = 134217728;
  uint32_t handshake_timeout_ms = 10000;
  uint32_t consumer_timeout_ms = 1800000;  // consumer_timeout (RabbitMQ's key and default)
  std::optional<uint64_t> connection_max;  // nullopt = infinity
  // auth_failure_limit.*: failed logins per source address (AMQP and the management API's
  // Basic auth). Pulse's own keys; RabbitMQ has no such limit. max_failures = 0 turns it off.
  uint32_t auth_failure_max_failures = 10;
  uint32_t auth_failure_window_ms = 60000;
  uint32_t auth_failure_block_for_ms = 60000;
  uint32_t auth_failure_max_tracked = 4096;
  bool auth_failure_exempt_loopback = true;
  // management.cors.allow_origins.N / management.cors.max_age (RabbitMQ's keys): CORS is off
  // while no origin is listed; "*" allows any origin.
  std::vector<std::string> management_cors_allow_origins;
  uint32_t management_cors_max_age = 1800;

  // vm_memory_high_watermark: .absolute (bytes) takes precedence over .relative when both are
  // set, as in RabbitMQ.
  double memory_high_watermark_relative = 0.4;
  std::optional<uint64_t> memory_high_watermark_absolute;
  // Paging: past these budgets queues move message bodies to disk. The global budget defaults
  // to vm_memory_high_watermark_paging_ratio (RabbitMQ's key, 0.5) of the memory watermark.
  double memory_high_watermark_paging_ratio = 0.5;
  uint64_t paging_queue_memory_limit = 64ull << 20;    // paging.queue_memory_limit
  std::optional<uint64_t> paging_global_memory_limit;  // paging.global_memory_limit
  // disk_free_limit: .absolute takes precedence; .relative is a multiple of total RAM; neither
  // set means kDefaultDiskFreeLimit.
  std::optional<uint64_t> disk_free_limit_absolute;
  std::optional<double> disk_free_limit_relative;

  // pulsed logs to standard output only: `log.console = true` and `log.file = false` are
  // accepted (they say what pulsed does), the other values are refused as not supported yet.
  std::string log_console_level = "info";

  std::string management_ip = "127.0.0.1";
  uint16_t management_port = 15672;
  // management.tcp.* / prometheus.tcp.* appeared in the file. As in RabbitMQ, when only the
  // .ssl listener of a plugin is configured, its plaintext listener is not started.
  bool management_tcp_configured = false;
  bool prometheus_tcp_configured = false;
  // management.tcp.request_timeout / .idle_timeout, prometheus.tcp.* likewise (milliseconds,
  // cowboy's meaning and defaults, 5000 and 60000: httpd/timeouts.h).
  httpd::Timeouts management_tcp_timeouts;
  httpd::Timeouts prometheus_tcp_timeouts;
  // management.ssl.* / prometheus.ssl.*: HTTPS listeners (off unless configured). The ip
  // defaults to all interfaces and the port must be given, as in RabbitMQ.
  struct HttpsListener {
    bool configured = false;
    std::string ip;
    std::optional<uint16_t> port;
    tls::ServerTlsOptions tls;
    httpd::Timeouts timeouts;  // .request_timeout, .idle_timeout
  };
  HttpsListener management_ssl;
  HttpsListener prometheus_ssl;
  // rabbitmq_prometheus's listener (GET /metrics; also served on the management listener).
  std::string prometheus_ip = "127.0.0.1";
  uint16_t prometheus_port = 15692;

  // cluster_name: set as the cluster_name global parameter at every start, replacing a stored
  // one, as RabbitMQ's boot does. Unset: the stored name, or the node name.
  std::optional<std::string> cluster_name;

  // pulse.namespaces.strict (Pulse's own key): users other than administrators may only
  // create, delete and bind to exchange/<user>/... (durable topic) and queue/<user>/...,
  // whatever their permissions say (auth/namespace_policy.h). Off: RabbitMQ's behaviour.
  bool pulse_namespaces_strict = false;

  // pulse.io.gather_window (Pulse's own key), in microseconds, 0 to 10000: how long the event
  // loop lets streamed input gather between turns (server/event_loop.h); 0 turns it off.
  uint32_t io_gather_window_us = 200;

  std::string load_definitions;        // path to a definitions JSON file imported at boot
  std::string definitions_local_path;  // definitions.local.path

  // pulse.guardian.*: read by pulse/guardian's SettingsReader (the keys pulse-guardian's
  // --config takes too) and validated as a whole. Off unless pulse.guardian.enabled = true.
  guardian::GuardianSettings guardian;
  // pulse.smtp.*: where the guardian's notices are mailed (no host: no mail). Validated with
  // the file; used only when the guardian runs.
  smtp::SmtpSettings smtp;
  // pulse.accounts.*: owners, Pulse users and namespace claims (/api/pulse), each key validated
  // by pulse/accounts' apply_setting.
  accounts::AccountSettings accounts;
  // pulse.push.*: HTTP push subscriptions (pulse/push's apply_setting); applied at start.
  push::Settings push;

  // Every key as written (key -> raw value, the last one wins): a reload compares these to
  // say which settings changed.
  std::map<std::string, std::string> settings;
};

// `source` names the input in error texts (normally the file path).
Result<Config> parse_config(std::string_view text, std::string_view source = "<config>");
Result<Config> load_config_file(const std::string& path);

// RabbitMQ's information units: "1000000", "512MiB", "1GB", "10k" (k/K/kiB = 1024, kB/KB = 1000,
// likewise M and G), exactly the unit spellings RabbitMQ accepts.
std::optional<uint64_t> parse_information_unit(std::string_view text);
// "5672", "127.0.0.1:5672", "[::1]:5672", "::1:5672" (last colon splits, as cuttlefish's ip).
std::optional<Listener> parse_listener(std::string_view text);

// Settings a running pulsed applies on SIGHUP; every other changed key needs a restart.
bool reloadable_key(std::string_view key);

// Keys set, changed or removed between two configurations, split by reloadable_key.
struct SettingsDiff {
  std::vector<std::string> reloadable;
  std::vector<std::string> need_restart;
};
SettingsDiff diff_settings(const Config& running, const Config& next);

}  // namespace pulse::app
