#include "app/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

#include "app/config_values.h"
#include "base/config_lines.h"
#include "base/url.h"
#include "pulse/accounts/settings.h"
#include "pulse/guardian/settings_reader.h"
#include "pulse/smtp/settings.h"

namespace pulse::app {
namespace {

using namespace config_values;

struct KeySpec {
  // Dot-separated; "$" matches one segment (passed to the setter).
  std::string_view pattern;
  Setter set;
};

// Every key pulsed uses, one row each: adding a key is adding a row.
#define FIELD(expr) [](State& s, std::string_view, std::string_view v) { return expr; }
// A key whose value is checked but changes nothing (see only_value).
#define CHECK(expr) [](State&, std::string_view, std::string_view v) { return expr; }
const KeySpec kKeys[] = {
    {"listeners.tcp", FIELD(set_none(s.cfg.tcp_listeners, s.tcp_set, v))},
    {"listeners.tcp.$",
     [](State& s, std::string_view n, std::string_view v) {
       return set_listener(s.cfg.tcp_listeners, s.tcp_set, n, v);
     }},
    {"listeners.ssl", FIELD(set_none(s.cfg.ssl_listeners, s.ssl_set, v))},
    {"listeners.ssl.$",
     [](State& s, std::string_view n, std::string_view v) {
       return set_listener(s.cfg.ssl_listeners, s.ssl_set, n, v);
     }},
    {"stomp.listeners.tcp", FIELD(set_none(s.cfg.stomp_tcp_listeners, s.stomp_tcp_set, v))},
    {"stomp.listeners.tcp.$",
     [](State& s, std::string_view n, std::string_view v) {
       return set_listener(s.cfg.stomp_tcp_listeners, s.stomp_tcp_set, n, v);
     }},
    {"stomp.listeners.ssl", FIELD(set_none(s.cfg.stomp_ssl_listeners, s.stomp_ssl_set, v))},
    {"stomp.listeners.ssl.$",
     [](State& s, std::string_view n, std::string_view v) {
       return set_listener(s.cfg.stomp_ssl_listeners, s.stomp_ssl_set, n, v);
     }},
    {"stomp.default_user", FIELD(set_string(s.cfg.stomp.default_login.emplace(), v))},
    {"stomp.default_pass", FIELD(set_string(s.cfg.stomp.default_passcode.emplace(), v))},
    {"stomp.default_vhost", FIELD(set_string(s.cfg.stomp.default_vhost, v))},
    {"stomp.default_topic_exchange", FIELD(set_string(s.cfg.stomp.default_topic_exchange, v))},
    {"stomp.default_nack_requeue", FIELD(parse_config_bool(v, s.cfg.stomp.default_nack_requeue))},
    {"stomp.implicit_connect", FIELD(parse_config_bool(v, s.cfg.stomp.implicit_connect))},
    {"stomp.hide_server_info", FIELD(parse_config_bool(v, s.cfg.stomp.hide_server_info))},
    {"stomp.login_timeout", FIELD(parse_uint(v, s.cfg.stomp.login_timeout_ms))},
    // One event loop accepts for every listener: the acceptor count has nothing to set.
    {"stomp.num_acceptors.tcp", FIELD(parse_uint(v, s.cfg.stomp_num_acceptors))},
    {"stomp.num_acceptors.ssl", FIELD(parse_uint(v, s.cfg.stomp_num_acceptors))},
    {"stomp.ssl_cert_login",
     CHECK(only_value(v, "false", "STOMP login with a client certificate"))},
    {"stomp.proxy_protocol", CHECK(only_value(v, "false", "the PROXY protocol"))},
    {"web_stomp.port", FIELD(parse_uint(v, s.cfg.web_stomp_listeners.tcp_port))},
    {"web_stomp.tcp.port", FIELD(parse_uint(v, s.cfg.web_stomp_listeners.tcp_port))},
    {"web_stomp.tcp.ip", FIELD(set_string(s.cfg.web_stomp_listeners.tcp_ip, v))},
    {"web_stomp.tcp.backlog", FIELD(parse_uint(v, s.cfg.web_stomp_backlog))},
    {"web_stomp.tcp.listener",
     [](State& s, std::string_view, std::string_view v) {
       auto& w = s.cfg.web_stomp_listeners;
       std::optional<uint16_t> port;
       auto e = set_web_stomp_listener(w.tcp_enabled, w.tcp_ip, port, v);
       if (port) w.tcp_port = *port;
       return e;
     }},
    {"web_stomp.ssl.port",
     FIELD((s.cfg.web_stomp_listeners.ssl_configured = true,
            parse_uint(v, s.cfg.web_stomp_listeners.ssl_port.emplace(), 1)))},
    {"web_stomp.ssl.ip", FIELD(set_string(s.cfg.web_stomp_listeners.ssl_ip, v))},
    {"web_stomp.ssl.backlog", FIELD(parse_uint(v, s.cfg.web_stomp_backlog))},
    {"web_stomp.ssl.listener",
     FIELD(set_web_stomp_listener(s.cfg.web_stomp_listeners.ssl_configured,
                                  s.cfg.web_stomp_listeners.ssl_ip,
                                  s.cfg.web_stomp_listeners.ssl_port, v))},
    {"web_stomp.ws_path", FIELD(set_ws_path(s.cfg.web_stomp.path, v))},
    {"web_stomp.ws_frame", FIELD(set_ws_frame(s.cfg.web_stomp.binary_frames, v))},
    {"web_stomp.ws_opts.compress", FIELD(parse_config_bool(v, s.cfg.web_stomp.compress))},
    {"web_stomp.ws_opts.max_frame_size", FIELD(parse_uint(v, s.cfg.web_stomp.max_message_size))},
    {"web_stomp.ws_opts.idle_timeout", FIELD(set_ms(s.cfg.web_stomp.idle_timeout, v))},
    {"web_stomp.num_acceptors.tcp", FIELD(parse_uint(v, s.cfg.stomp_num_acceptors))},
    {"web_stomp.num_acceptors.ssl", FIELD(parse_uint(v, s.cfg.stomp_num_acceptors))},
    {"web_stomp.max_connections", FIELD(set_max_connections(s.cfg.web_stomp.max_connections, v))},
    {"web_stomp.use_http_auth", FIELD(parse_config_bool(v, s.cfg.web_stomp.use_http_auth))},
    {"web_stomp.proxy_protocol", CHECK(only_value(v, "false", "the PROXY protocol"))},
    {"auth_mechanisms.$", FIELD(set_mechanism(s.cfg.auth_mechanisms, v))},
    {"ssl_cert_login_from", FIELD(set_login_from(s.cfg.ssl_cert_login, v))},
    {"ssl_cert_login_san_type", FIELD(set_san_type(s.cfg.ssl_cert_login, v))},
    {"ssl_cert_login_san_index", FIELD(parse_uint(v, s.cfg.ssl_cert_login.san_index, 0, 1000))},
    {"default_user", FIELD(set_string(s.cfg.default_user, v))},
    {"default_pass", FIELD(set_string(s.cfg.default_pass, v))},
    {"default_vhost", FIELD(set_string(s.cfg.default_vhost, v))},
    {"default_permissions.configure", FIELD(set_string(s.cfg.default_permissions_configure, v))},
    {"default_permissions.write", FIELD(set_string(s.cfg.default_permissions_write, v))},
    {"default_permissions.read", FIELD(set_string(s.cfg.default_permissions_read, v))},
    {"default_user_tags.$",
     [](State& s, std::string_view n,
        std::string_view v) { return set_flag_list(s.cfg.default_user_tags, s.tags_set, n, v); }},
    {"loopback_users", FIELD(set_none(s.cfg.loopback_users, s.loopback_set, v))},
    {"loopback_users.$",
     [](State& s, std::string_view n,
        std::string_view v) { return set_flag_list(s.cfg.loopback_users, s.loopback_set, n, v); }},
    {"heartbeat", FIELD(parse_uint(v, s.cfg.heartbeat))},
    {"frame_max", FIELD(parse_uint(v, s.cfg.frame_max))},
    {"channel_max", FIELD(parse_uint(v, s.cfg.channel_max))},
    // RabbitMQ caps max_message_size at 512 MiB.
    {"max_message_size", FIELD(parse_uint(v, s.cfg.max_message_size, 1, 536870912))},
    {"handshake_timeout", FIELD(parse_uint(v, s.cfg.handshake_timeout_ms))},
    {"consumer_timeout", FIELD(parse_uint(v, s.cfg.consumer_timeout_ms, 1))},
    {"connection_max", FIELD(v == "infinity" ? (s.cfg.connection_max.reset(), std::string())
                                             : parse_uint(v, s.cfg.connection_max.emplace()))},
    {"auth_failure_limit.max_failures", FIELD(parse_uint(v, s.cfg.auth_failure_max_failures))},
    {"auth_failure_limit.window", FIELD(parse_uint(v, s.cfg.auth_failure_window_ms, 1))},
    {"auth_failure_limit.block_for", FIELD(parse_uint(v, s.cfg.auth_failure_block_for_ms))},
    {"auth_failure_limit.max_tracked_addresses",
     FIELD(parse_uint(v, s.cfg.auth_failure_max_tracked, 1))},
    {"auth_failure_limit.exempt_loopback",
     FIELD(parse_config_bool(v, s.cfg.auth_failure_exempt_loopback))},
    {"management.cors.allow_origins.$",
     FIELD(append_string(s.cfg.management_cors_allow_origins, v))},
    {"management.cors.max_age", FIELD(parse_uint(v, s.cfg.management_cors_max_age))},
    {"vm_memory_high_watermark.relative",
     FIELD(parse_double(v, s.cfg.memory_high_watermark_relative))},
    {"vm_memory_high_watermark.absolute",
     FIELD(parse_bytes(v, s.cfg.memory_high_watermark_absolute.emplace()))},
    {"vm_memory_high_watermark_paging_ratio",
     FIELD(parse_double(v, s.cfg.memory_high_watermark_paging_ratio))},
    {"paging.queue_memory_limit", FIELD(parse_bytes(v, s.cfg.paging_queue_memory_limit))},
    {"paging.global_memory_limit",
     FIELD(parse_bytes(v, s.cfg.paging_global_memory_limit.emplace()))},
    {"disk_free_limit.absolute", FIELD(parse_bytes(v, s.cfg.disk_free_limit_absolute.emplace()))},
    {"disk_free_limit.relative", FIELD(parse_double(v, s.cfg.disk_free_limit_relative.emplace()))},
    // Only the values that describe what pulsed does (log to standard output) are accepted.
    {"log.console", CHECK(only_value(v, "true", "logging only to a file"))},
    {"log.console.level", FIELD(parse_level(v, s.cfg.log_console_level))},
    {"log.file", CHECK(only_value(v, "false", "logging to a file"))},
    {"management.tcp.port",
     FIELD((s.cfg.management_tcp_configured = true, parse_uint(v, s.cfg.management_port)))},
    {"management.tcp.ip",
     FIELD((s.cfg.management_tcp_configured = true, set_string(s.cfg.management_ip, v)))},
    {"prometheus.tcp.port",
     FIELD((s.cfg.prometheus_tcp_configured = true, parse_uint(v, s.cfg.prometheus_port)))},
    {"prometheus.tcp.ip",
     FIELD((s.cfg.prometheus_tcp_configured = true, set_string(s.cfg.prometheus_ip, v)))},
    // cowboy's request_timeout and idle_timeout, which RabbitMQ hands to it (httpd/timeouts.h).
    {"management.tcp.request_timeout",
     FIELD((s.cfg.management_tcp_configured = true,
            set_ms(s.cfg.management_tcp_timeouts.request, v)))},
    {"management.tcp.idle_timeout",
     FIELD((s.cfg.management_tcp_configured = true,
            set_ms(s.cfg.management_tcp_timeouts.idle, v)))},
    {"prometheus.tcp.request_timeout",
     FIELD((s.cfg.prometheus_tcp_configured = true,
            set_ms(s.cfg.prometheus_tcp_timeouts.request, v)))},
    {"prometheus.tcp.idle_timeout",
     FIELD((s.cfg.prometheus_tcp_configured = true,
            set_ms(s.cfg.prometheus_tcp_timeouts.idle, v)))},
    {"management.ssl.request_timeout",
     FIELD((s.cfg.management_ssl.configured = true,
            set_ms(s.cfg.management_ssl.timeouts.request, v)))},
    {"management.ssl.idle_timeout",
     FIELD((s.cfg.management_ssl.configured = true,
            set_ms(s.cfg.management_ssl.timeouts.idle, v)))},
    {"prometheus.ssl.request_timeout",
     FIELD((s.cfg.prometheus_ssl.configured = true,
            set_ms(s.cfg.prometheus_ssl.timeouts.request, v)))},
    {"prometheus.ssl.idle_timeout",
     FIELD((s.cfg.prometheus_ssl.configured = true,
            set_ms(s.cfg.prometheus_ssl.timeouts.idle, v)))},
    {"management.ssl.port", FIELD(set_https_port(s.cfg.management_ssl, v))},
    {"management.ssl.ip", FIELD(set_https_ip(s.cfg.management_ssl, v))},
    {"prometheus.ssl.port", FIELD(set_https_port(s.cfg.prometheus_ssl, v))},
    {"prometheus.ssl.ip", FIELD(set_https_ip(s.cfg.prometheus_ssl, v))},
    {"cluster_name", FIELD(set_string(s.cfg.cluster_name.emplace(), v))},
    {"pulse.namespaces.strict", FIELD(parse_config_bool(v, s.cfg.pulse_namespaces_strict))},
    {"pulse.io.gather_window", FIELD(parse_uint(v, s.cfg.io_gather_window_us, 0, 10000))},
    {"load_definitions", FIELD(set_string(s.cfg.load_definitions, v))},
    {"definitions.local.path", FIELD(set_string(s.cfg.definitions_local_path, v))},
    {"definitions.import_backend",
     CHECK(only_value(v, "local_filesystem", "importing definitions over HTTPS"))},
};
#undef FIELD
#undef CHECK

// Keys of features pulsed does not have yet: refused by name, so that a file written for
// RabbitMQ (or for a later pulsed) fails clearly instead of running without them. A typo in
// one of these families is an unknown key.
struct Unsupported {
  std::string_view pattern;
  std::string_view feature;
};
const Unsupported kNotSupportedYet[] = {
    {"stomp.tcp_listen_options.$", "STOMP's tcp_listen_options"},
    {"stomp.tcp_listen_options.linger.$", "STOMP's tcp_listen_options"},
    {"web_stomp.cowboy_opts.$", "Web-STOMP's cowboy_opts"},
    {"log.dir", "logging to a file"},
    {"log.file.level", "logging to a file"},
    {"log.file.rotation.$", "logging to a file"},
    {"log.syslog", "logging to syslog"},
    {"log.syslog.$", "logging to syslog"},
};
// A TLS option under one of the prefixes RabbitMQ uses for it (ssl_options.certfile,
// management.ssl.versions.1, ...): the options to set and the option name, or null.
tls::ServerTlsOptions* tls_target(Config& cfg, std::string_view key, std::string_view& option) {
  struct Prefix {
    std::string_view prefix;
    tls::ServerTlsOptions* target;
  };
  const Prefix prefixes[] = {{"ssl_options.", &cfg.ssl_options},
                             {"management.ssl.", &cfg.management_ssl.tls},
                             {"prometheus.ssl.", &cfg.prometheus_ssl.tls},
                             {"web_stomp.ssl.", &cfg.web_stomp_listeners.ssl}};
  for (const auto& p : prefixes) {
    if (key.starts_with(p.prefix) && tls::known_option(key.substr(p.prefix.size()))) {
      option = key.substr(p.prefix.size());
      if (p.target == &cfg.management_ssl.tls) cfg.management_ssl.configured = true;
      if (p.target == &cfg.prometheus_ssl.tls) cfg.prometheus_ssl.configured = true;
      if (p.target == &cfg.web_stomp_listeners.ssl) cfg.web_stomp_listeners.ssl_configured = true;
      return p.target;
    }
  }
  return nullptr;
}

// Matches `key` against `pattern`; on success `var` holds the "$" segment.
bool match_key(std::string_view pattern, std::string_view key, std::string_view& var) {
  var = {};
  while (true) {
    size_t pd = pattern.find('.');
    std::string_view pseg = pattern.substr(0, pd);
    size_t kd = key.find('.');
    std::string_view kseg = key.substr(0, kd);
    if (pseg == "$") {
      if (kseg.empty()) return false;
      var = kseg;
    } else if (pseg != kseg) {
      return false;
    }
    if ((pd == std::string_view::npos) != (kd == std::string_view::npos)) return false;
    if (pd == std::string_view::npos) return true;
    pattern.remove_prefix(pd + 1);
    key.remove_prefix(kd + 1);
  }
}

// The feature a known-but-unimplemented key belongs to, or empty.
std::string_view unsupported_feature(std::string_view key) {
  std::string_view var;
  for (const Unsupported& u : kNotSupportedYet) {
    if (match_key(u.pattern, key, var)) return u.feature;
  }
  return {};
}

}  // namespace

std::optional<uint64_t> parse_information_unit(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec != std::errc()) return std::nullopt;
  struct Unit {
    std::string_view name;
    uint64_t mult;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"k", 1024},
      {"K", 1024},
      {"kiB", 1024},
      {"KiB", 1024},
      {"kib", 1024},
      {"KIB", 1024},
      {"m", 1 << 20},
      {"M", 1 << 20},
      {"MiB", 1 << 20},
      {"mib", 1 << 20},
      {"MIB", 1 << 20},
      {"g", 1 << 30},
      {"G", 1 << 30},
      {"GiB", 1 << 30},
      {"gib", 1 << 30},
      {"GIB", 1 << 30},
      {"kB", 1000},
      {"KB", 1000},
      {"kb", 1000},
      {"Kb", 1000},
      {"MB", 1000000},
      {"mB", 1000000},
      {"mb", 1000000},
      {"Mb", 1000000},
      {"GB", 1000000000},
      {"gB", 1000000000},
      {"gb", 1000000000},
      {"Gb", 1000000000},
  };
  std::string_view unit = text.substr(digits);
  for (const Unit& u : kUnits) {
    if (u.name == unit) {
      if (n > std::numeric_limits<uint64_t>::max() / u.mult) return std::nullopt;
      return n * u.mult;
    }
  }
  return std::nullopt;
}

std::optional<Listener> parse_listener(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp) return std::nullopt;
  return Listener{"", std::move(hp->host), hp->port};
}

bool reloadable_key(std::string_view key) {
  // The Pulse layer's own keys are applied live (app/reload.h); pulse.namespaces.strict is
  // the AuthStore's and waits for a restart.
  return key == "log.console.level" || key.starts_with("pulse.guardian.") ||
         key.starts_with("pulse.smtp.") || key.starts_with("pulse.accounts.");
}

SettingsDiff diff_settings(const Config& running, const Config& next) {
  SettingsDiff diff;
  auto note = [&](const std::string& key) {
    (reloadable_key(key) ? diff.reloadable : diff.need_restart).push_back(key);
  };
  for (const auto& [key, value] : next.settings) {
    auto it = running.settings.find(key);
    if (it == running.settings.end() || it->second != value) note(key);
  }
  for (const auto& [key, value] : running.settings) {
    if (!next.settings.contains(key)) note(key);
  }
  std::sort(diff.reloadable.begin(), diff.reloadable.end());
  std::sort(diff.need_restart.begin(), diff.need_restart.end());
  return diff;
}

Result<Config> parse_config(std::string_view text, std::string_view source) {
  Config cfg;
  State state{cfg};
  guardian::SettingsReader guardian_keys;
  // The file's syntax is base/config_lines' (pulse-guardian's --config reads the same).
  auto lines = split_config_lines(text, source);
  if (!lines) return std::move(lines).error();
  for (const ConfigLine& line : *lines) {
    const size_t line_no = line.line;
    const std::string_view key = line.key;
    const std::string_view value = line.value;

    // The guardian's keys have their own reader, shared with pulse-guardian's --config; it
    // names the key in its errors and refuses unknown pulse.guardian.* keys itself.
    if (key.starts_with(guardian::kSettingsPrefix)) {
      if (auto st = guardian_keys.apply(key, value); !st) {
        return config_line_error(source, line_no, st.error().text);
      }
      cfg.settings[std::string(key)] = value;
      continue;
    }
    // pulse.smtp.*: the guardian's mail, read by pulse/smtp (pulse-guardian's --config too).
    if (key.starts_with("pulse.smtp.")) {
      if (auto st = smtp::apply_setting(cfg.smtp, key, value); !st) {
        return config_line_error(source, line_no, st.error().text);
      }
      cfg.settings[std::string(key)] = value;
      continue;
    }

    // The account service's keys (pulse/accounts/settings.h), each validated as it is read;
    // unknown pulse.accounts.* keys are refused there.
    if (key.starts_with("pulse.accounts.")) {
      if (auto st = accounts::apply_setting(cfg.accounts, key, value); !st)
        return config_line_error(source, line_no, st.error().text);
      cfg.settings[std::string(key)] = value;
      continue;
    }

    if (key.starts_with("pulse.push.")) {
      if (auto st = push::apply_setting(cfg.push, key, value); !st)
        return config_line_error(source, line_no, st.error().text);
      cfg.settings[std::string(key)] = value;
      continue;
    }

    const KeySpec* spec = nullptr;
    std::string_view var;
    for (const KeySpec& k : kKeys) {
      if (match_key(k.pattern, key, var)) {
        spec = &k;
        break;
      }
    }
    std::string_view tls_option;
    if (spec == nullptr) {
      if (tls::ServerTlsOptions* t = tls_target(cfg, key, tls_option)) {
        if (std::string why = tls::set_option(*t, tls_option, value); !why.empty()) {
          return config_line_error(source, line_no,
                                   "invalid value '" + std::string(value) + "' for key '" +
                                       std::string(key) + "': " + why);
        }
        cfg.settings[std::string(key)] = value;
        continue;
      }
      if (auto feature = unsupported_feature(key); !feature.empty()) {
        return config_line_error(
            source, line_no,
            "key '" + std::string(key) + "' is not supported yet (" + std::string(feature) + ")");
      }
      return config_line_error(source, line_no, "unknown key '" + std::string(key) + "'");
    }
    if (std::string why = spec->set(state, var, value); !why.empty()) {
      return config_line_error(
          source, line_no,
          "invalid value '" + std::string(value) + "' for key '" + std::string(key) + "': " + why);
    }
    cfg.settings[std::string(key)] = value;
  }
  if (!cfg.stomp_ssl_listeners.empty() &&
      (cfg.ssl_options.certfile.empty() || cfg.ssl_options.keyfile.empty())) {
    return Error{0, std::string(source) +
                        ": stomp.listeners.ssl needs ssl_options.certfile and ssl_options.keyfile"};
  }
  if (!cfg.ssl_listeners.empty() &&
      (cfg.ssl_options.certfile.empty() || cfg.ssl_options.keyfile.empty())) {
    return Error{0, std::string(source) +
                        ": listeners.ssl needs ssl_options.certfile and ssl_options.keyfile"};
  }
  for (auto [name, l] : {std::pair{"management", &cfg.management_ssl},
                         std::pair{"prometheus", &cfg.prometheus_ssl}}) {
    if (!l->configured) continue;
    if (!l->port) {
      return Error{0, std::string(source) + ": " + name + ".ssl.port is required when " + name +
                          ".ssl.* is set"};
    }
    if (l->tls.certfile.empty() || l->tls.keyfile.empty()) {
      return Error{0, std::string(source) + ": " + name + ".ssl.port needs " + name +
                          ".ssl.certfile and " + name + ".ssl.keyfile"};
    }
  }
  if (const auto& w = cfg.web_stomp_listeners; w.ssl_configured) {
    if (!w.ssl_port)
      return Error{0, std::string(source) +
                          ": web_stomp.ssl.port is required when web_stomp.ssl.* "
                          "is set"};
    if (w.ssl.certfile.empty() || w.ssl.keyfile.empty())
      return Error{0, std::string(source) +
                          ": web_stomp.ssl.port needs web_stomp.ssl.certfile "
                          "and web_stomp.ssl.keyfile"};
  }
  if (cfg.frame_max != 0 && cfg.frame_max < 4096) {
    return Error{0, std::string(source) + ": frame_max must be 0 (no limit) or at least 4096"};
  }
  auto guardian = guardian_keys.finish();
  if (!guardian) return Error{0, std::string(source) + ": " + guardian.error().text};
  cfg.guardian = std::move(*guardian);
  if (auto st = smtp::validate(cfg.smtp); !st) {
    return Error{0, std::string(source) + ": " + st.error().text};
  }
  return cfg;
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{0, "cannot read config file '" + path + "'"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace pulse::app
