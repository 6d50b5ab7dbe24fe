#pragma once
// Internal to app/config.cc: the value parsers its key table (kKeys) calls, one per kind of
// value. Each returns an empty string on success, else why the value is malformed.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"

namespace pulse::app::config_values {

// Per-file parse state: list-valued keys replace their default on first use, as cuttlefish's
// translations build the list only from the keys present.
struct State {
  Config& cfg;
  bool tcp_set = false, tags_set = false, loopback_set = false, ssl_set = false;
  bool stomp_tcp_set = false, stomp_ssl_set = false;
};

// Returns an empty string on success, else why the value is malformed.
using Setter = std::string (*)(State&, std::string_view var, std::string_view value);

template <typename T>
std::string parse_uint(std::string_view v, T& out, uint64_t min = 0,
                       uint64_t max = std::numeric_limits<T>::max()) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return "expected an integer";
  if (n < min || n > max) {
    return "expected an integer in " + std::to_string(min) + ".." + std::to_string(max);
  }
  out = static_cast<T>(n);
  return {};
}

std::string parse_double(std::string_view v, double& out);

std::string parse_bytes(std::string_view v, uint64_t& out);

std::string parse_level(std::string_view v, std::string& out);

std::string set_listener(std::vector<Listener>& list, bool& touched, std::string_view name,
                         std::string_view v);

std::string set_flag_list(std::vector<std::string>& list, bool& touched, std::string_view item,
                          std::string_view v);

// `key = none` empties a list-valued setting (listeners.tcp, loopback_users).
template <typename T>
std::string set_none(std::vector<T>& list, bool& touched, std::string_view v) {
  if (v != "none") return "only 'none' is allowed here";
  list.clear();
  touched = true;
  return {};
}

std::string set_string(std::string& out, std::string_view v);

std::string append_string(std::vector<std::string>& out, std::string_view v);

// A key whose only accepted value is the one pulsed implements; `other` names what the other
// values would ask for.
std::string only_value(std::string_view v, std::string_view accepted, std::string_view other);

std::string set_mechanism(std::vector<std::string>& list, std::string_view v);

std::string set_login_from(tls::CertLoginOptions& o, std::string_view v);

std::string set_san_type(tls::CertLoginOptions& o, std::string_view v);

std::string set_https_port(Config::HttpsListener& l, std::string_view v);

std::string set_https_ip(Config::HttpsListener& l, std::string_view v);

// web_stomp.tcp.listener / web_stomp.ssl.listener: `none` or IP:PORT (cuttlefish's ip type).
std::string set_web_stomp_listener(bool& enabled, std::string& ip, std::optional<uint16_t>& port,
                                   std::string_view v);

std::string set_ws_frame(bool& binary, std::string_view v);

std::string set_ws_path(std::string& path, std::string_view v);

// cuttlefish's [{enum, [infinity]}, integer]; ranch takes 0 too (nothing is accepted).
std::string set_max_connections(std::optional<size_t>& out, std::string_view v);

std::string set_ms(std::chrono::milliseconds& out, std::string_view v);

}  // namespace pulse::app::config_values
