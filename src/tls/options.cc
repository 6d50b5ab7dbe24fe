#include "tls/options.h"

#include <charconv>

#include "base/config_lines.h"

namespace pulse::tls {
namespace {

// Options pulsed refuses, with why. Erlang's ssl has them; OpenSSL either has no such knob or
// always does the safe thing.
struct Refused {
  std::string_view name;
  std::string_view why;
};
constexpr Refused kRefused[] = {
    {"honor_ecc_order", "is not supported (OpenSSL follows the client's curve preference)"},
    {"secure_renegotiate", "is not supported (OpenSSL always requires secure renegotiation)"},
    {"sni", "is not supported (pulsed serves one certificate per listener)"},
};

// "versions.1" -> true; "versions" or "versions.x.y" -> false.
bool indexed(std::string_view option, std::string_view name) {
  if (!option.starts_with(name) || option.size() <= name.size() + 1) return false;
  if (option[name.size()] != '.') return false;
  return option.find('.', name.size() + 1) == std::string_view::npos;
}

}  // namespace

std::string_view crl_check_name(CrlCheck c) {
  switch (c) {
    case CrlCheck::kFalse:
      return "false";
    case CrlCheck::kTrue:
      return "true";
    case CrlCheck::kPeer:
      return "peer";
    case CrlCheck::kBestEffort:
      return "best_effort";
  }
  return "?";
}

bool known_option(std::string_view option) {
  static constexpr std::string_view kPlain[] = {
      "cacertfile",           "certfile", "keyfile",   "password",           "verify",
      "fail_if_no_peer_cert", "depth",    "crl_check", "honor_cipher_order", "client_renegotiation",
      "reuse_sessions",       "log_alert"};
  for (auto k : kPlain) {
    if (option == k) return true;
  }
  for (const auto& r : kRefused) {
    if (option == r.name) return true;
  }
  return indexed(option, "versions") || indexed(option, "ciphers");
}

std::string set_option(ServerTlsOptions& o, std::string_view option, std::string_view value) {
  for (const auto& r : kRefused) {
    if (option == r.name) return std::string(r.name) + " " + std::string(r.why);
  }
  if (option == "cacertfile") {
    o.cacertfile = value;
  } else if (option == "certfile") {
    o.certfile = value;
  } else if (option == "keyfile") {
    o.keyfile = value;
  } else if (option == "password") {
    o.password = value;
  } else if (option == "verify") {
    if (value == "verify_peer") {
      o.verify_peer = true;
    } else if (value == "verify_none") {
      o.verify_peer = false;
    } else {
      return "expected verify_peer or verify_none";
    }
  } else if (option == "fail_if_no_peer_cert") {
    return parse_config_bool(value, o.fail_if_no_peer_cert);
  } else if (option == "depth") {
    int n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || p != value.data() + value.size() || n < 0 || n > 100) {
      return "expected an integer in 0..100";
    }
    o.depth = n;
  } else if (option == "crl_check") {
    if (value == "true") {
      o.crl_check = CrlCheck::kTrue;
    } else if (value == "false") {
      o.crl_check = CrlCheck::kFalse;
    } else if (value == "peer") {
      o.crl_check = CrlCheck::kPeer;
    } else if (value == "best_effort") {
      o.crl_check = CrlCheck::kBestEffort;
    } else {
      return "expected true, false, peer or best_effort";
    }
  } else if (indexed(option, "versions")) {
    if (value != "tlsv1.2" && value != "tlsv1.3") {
      if (value == "tlsv1" || value == "tlsv1.1") {
        return std::string(value) + " is not supported: pulsed speaks TLS 1.2 and 1.3 only";
      }
      return "expected tlsv1.2 or tlsv1.3";
    }
    o.versions.emplace_back(value);
  } else if (indexed(option, "ciphers")) {
    if (value.empty() || value.find_first_of(": ,") != std::string_view::npos) {
      return "expected one cipher suite name in OpenSSL's spelling";
    }
    o.ciphers.emplace_back(value);
  } else if (option == "honor_cipher_order") {
    return parse_config_bool(value, o.honor_cipher_order);
  } else if (option == "client_renegotiation") {
    return parse_config_bool(value, o.client_renegotiation);
  } else if (option == "reuse_sessions") {
    return parse_config_bool(value, o.reuse_sessions);
  } else if (option == "log_alert") {
    return parse_config_bool(value, o.log_alert);
  } else {
    return "unknown TLS option '" + std::string(option) + "'";
  }
  return {};
}

}  // namespace pulse::tls
