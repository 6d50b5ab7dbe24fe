#include "app/config_values.h"

#include <algorithm>

#include "base/config_lines.h"
#include "base/url.h"

namespace pulse::app::config_values {

std::string parse_double(std::string_view v, double& out) {
  // from_chars for double is in GCC 11+; accept plain decimals like "0.4" and "1".
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || !(out >= 0)) {
    return "expected a non-negative number";
  }
  return {};
}

std::string parse_bytes(std::string_view v, uint64_t& out) {
  auto n = parse_information_unit(v);
  if (!n) return "expected a size such as 1000000, 512MiB or 2GB";
  out = *n;
  return {};
}

std::string parse_level(std::string_view v, std::string& out) {
  static constexpr std::string_view kLevels[] = {
      "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency", "none"};
  if (std::find(std::begin(kLevels), std::end(kLevels), v) == std::end(kLevels)) {
    return "expected a log level (debug, info, warning, error, critical, none)";
  }
  out = v;
  return {};
}

std::string set_listener(std::vector<Listener>& list, bool& touched, std::string_view name,
                         std::string_view v) {
  auto l = parse_listener(v);
  if (!l) return "expected a port or host:port";
  if (!touched) list.clear();
  touched = true;
  l->name = name;
  auto it =
      std::find_if(list.begin(), list.end(), [&](const Listener& x) { return x.name == name; });
  if (it != list.end()) {
    *it = std::move(*l);
  } else {
    list.push_back(std::move(*l));
  }
  return {};
}

std::string set_flag_list(std::vector<std::string>& list, bool& touched, std::string_view item,
                          std::string_view v) {
  bool on = false;
  if (auto e = parse_config_bool(v, on); !e.empty()) return e;
  if (!touched) list.clear();
  touched = true;
  std::erase(list, item);
  if (on) list.emplace_back(item);
  return {};
}

std::string set_string(std::string& out, std::string_view v) {
  out = v;
  return {};
}

std::string append_string(std::vector<std::string>& out, std::string_view v) {
  out.emplace_back(v);
  return {};
}

std::string only_value(std::string_view v, std::string_view accepted, std::string_view other) {
  if (v == accepted) return {};
  return std::string(other) + " is not supported yet (only '" + std::string(accepted) +
         "' is accepted)";
}

std::string set_mechanism(std::vector<std::string>& list, std::string_view v) {
  if (v != "PLAIN" && v != "AMQPLAIN" && v != "EXTERNAL") {
    return "expected PLAIN, AMQPLAIN or EXTERNAL";
  }
  if (std::find(list.begin(), list.end(), v) == list.end()) list.emplace_back(v);
  return {};
}

std::string set_login_from(tls::CertLoginOptions& o, std::string_view v) {
  if (v == "distinguished_name") {
    o.from = tls::LoginFrom::kDistinguishedName;
  } else if (v == "common_name") {
    o.from = tls::LoginFrom::kCommonName;
  } else if (v == "subject_alternative_name" || v == "subject_alt_name") {
    o.from = tls::LoginFrom::kSubjectAltName;
  } else {
    return "expected distinguished_name, common_name or subject_alternative_name";
  }
  return {};
}

std::string set_san_type(tls::CertLoginOptions& o, std::string_view v) {
  if (v != "dns" && v != "ip" && v != "email" && v != "uri" && v != "other_name") {
    return "expected dns, ip, email, uri or other_name";
  }
  o.san_type = v;
  return {};
}

std::string set_https_port(Config::HttpsListener& l, std::string_view v) {
  l.configured = true;
  return parse_uint(v, l.port.emplace(), 1);
}

std::string set_https_ip(Config::HttpsListener& l, std::string_view v) {
  l.configured = true;
  l.ip = v;
  return {};
}

std::string set_web_stomp_listener(bool& enabled, std::string& ip, std::optional<uint16_t>& port,
                                   std::string_view v) {
  if (v == "none") {
    enabled = false;
    return {};
  }
  auto l = parse_listener(v);
  if (!l || l->host.empty()) return "expected none or IP:PORT";
  enabled = true;
  ip = l->host;
  port = l->port;
  return {};
}

std::string set_ws_frame(bool& binary, std::string_view v) {
  if (v != "text" && v != "binary") return "expected text or binary";
  binary = v == "binary";
  return {};
}

std::string set_ws_path(std::string& path, std::string_view v) {
  if (v.empty() || v.front() != '/' || v.find_first_of("? \t#") != std::string_view::npos)
    return "expected a path starting with /";
  path = v;
  return {};
}

std::string set_max_connections(std::optional<size_t>& out, std::string_view v) {
  if (v == "infinity") {
    out.reset();
    return {};
  }
  if (auto e = parse_uint(v, out.emplace()); !e.empty()) {
    out.reset();
    return "expected infinity or a number";
  }
  return {};
}

std::string set_ms(std::chrono::milliseconds& out, std::string_view v) {
  uint64_t n = 0;
  if (auto e = parse_uint(v, n); !e.empty()) return e;
  out = std::chrono::milliseconds(n);
  return {};
}

}  // namespace pulse::app::config_values
