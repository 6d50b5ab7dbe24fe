#include "pulse/smtp/settings.h"

#include <algorithm>
#include <charconv>
#include <fstream>

namespace pulse::smtp {
namespace {

constexpr std::string_view kPrefix = "pulse.smtp.";
constexpr std::string_view kAdminsPrefix = "admins.";

Status refuse(std::string_view key, std::string_view value, const std::string& why) {
  return Error{0, std::string(key) + " = '" + std::string(value) + "': " + why};
}

bool has_control(std::string_view v) {
  return std::any_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::optional<long> parse_int(std::string_view v) {
  long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return n;
}

std::optional<std::string> host_problem(std::string_view h) {
  if (h.empty()) return "is empty";
  std::string_view inner = h;
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return "has an unclosed '['";
    inner = h.substr(1, h.size() - 2);
  }
  for (char c : inner) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':';
    if (!ok) return "is not a host name or IP address (letters, digits, '.', '-', ':' only)";
  }
  return std::nullopt;
}

Status check_address(std::string_view key, std::string_view value) {
  if (auto why = address_problem(value)) return refuse(key, value, *why);
  return {};
}

}  // namespace

std::string_view tls_mode_name(TlsMode mode) {
  switch (mode) {
    case TlsMode::kNone:
      return "none";
    case TlsMode::kStartTls:
      return "starttls";
    case TlsMode::kTls:
      return "tls";
  }
  return "none";
}

TlsMode effective_tls(const SmtpSettings& s) {
  if (s.tls) return *s.tls;
  if (s.port == 465) return TlsMode::kTls;
  return s.username.empty() ? TlsMode::kNone : TlsMode::kStartTls;
}

int effective_port(const SmtpSettings& s) {
  if (s.port) return *s.port;
  return effective_tls(s) == TlsMode::kTls ? 465 : 25;
}

std::vector<std::string> admin_addresses(const SmtpSettings& s) {
  std::vector<std::string> out;
  for (const auto& [n, a] : s.admins) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

std::optional<std::string> domain_problem(std::string_view d) {
  if (d.empty()) return "the domain is empty";
  if (d.size() > 253) return "the domain is longer than 253 characters";
  size_t label = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      if (label == 0) return "the domain has an empty label (leading, trailing or double '.')";
      label = 0;
      continue;
    }
    const char c = d[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return "the domain may hold only letters, digits, '-' and '.'";
    ++label;
  }
  return std::nullopt;
}

std::optional<std::string> address_problem(std::string_view a) {
  // Control characters first: CR/LF in an address is a header (or SMTP command) injection.
  if (has_control(a)) return "an address must not contain control characters (CR, LF, ...)";
  const auto at = a.find('@');
  if (at == std::string_view::npos) return "an address needs an '@'";
  if (a.find('@', at + 1) != std::string_view::npos) return "an address has exactly one '@'";
  const std::string_view local = a.substr(0, at);
  if (local.empty()) return "the part before '@' is empty";
  if (local.size() > 64) return "the part before '@' is longer than 64 characters";
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x7e) return "an address must be ASCII (internationalized addresses are not sent)";
    if (c == ' ' || std::string_view("<>()[],;:\"\\").find(c) != std::string_view::npos) {
      return std::string("the part before '@' must not contain '") + c + "'";
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return "the part before '@' has a leading, trailing or double '.'";
  }
  return domain_problem(a.substr(at + 1));
}

bool is_loopback_host(std::string_view h) {
  if (h == "localhost" || h == "::1" || h == "[::1]") return true;
  return h.starts_with("127.") && !host_problem(h) &&
         h.find_first_not_of("0123456789.") == std::string_view::npos;
}

Status apply_setting(SmtpSettings& s, std::string_view key, std::string_view value) {
  if (!key.starts_with(kPrefix)) {
    return Error{0, "'" + std::string(key) + "' is not a pulse.smtp.* setting"};
  }
  if (has_control(value)) {
    return Error{0, std::string(key) +
                        ": the value must not contain control characters (CR, "
                        "LF, ...)"};
  }
  const std::string_view name = key.substr(kPrefix.size());
  if (name == "host") {
    if (auto why = host_problem(value)) return refuse(key, value, "the host " + *why);
    s.host = value;
  } else if (name == "port") {
    auto n = parse_int(value);
    if (!n || *n < 1 || *n > 65535) return refuse(key, value, "must be a port number, 1 to 65535");
    s.port = static_cast<int>(*n);
  } else if (name == "from") {
    if (auto st = check_address(key, value); !st) return st;
    s.from = value;
  } else if (name.starts_with(kAdminsPrefix)) {
    const std::string_view n = name.substr(kAdminsPrefix.size());
    if (n.empty() || n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-") != std::string_view::npos) {
      return Error{0, "'" + std::string(key) +
                          "': admins are set as pulse.smtp.admins.<n> with <n> made of letters, "
                          "digits, '_' and '-' (e.g. pulse.smtp.admins.1)"};
    }
    if (auto st = check_address(key, value); !st) return st;
    s.admins[std::string(n)] = value;
  } else if (name == "username") {
    if (value.empty()) return refuse(key, value, "must not be empty");
    s.username = value;
  } else if (name == "password") {
    if (value.empty()) return refuse(key, value, "must not be empty");
    s.password = value;
  } else if (name == "tls") {
    if (value == "none") {
      s.tls = TlsMode::kNone;
    } else if (value == "starttls") {
      s.tls = TlsMode::kStartTls;
    } else if (value == "tls") {
      s.tls = TlsMode::kTls;
    } else {
      return refuse(key, value, "must be none, starttls or tls");
    }
  } else if (name == "cacertfile") {
    if (value.empty()) return refuse(key, value, "must name a file");
    s.cacertfile = value;
  } else if (name == "verify") {
    if (value == "verify_peer") {
      s.verify_peer = true;
    } else if (value == "verify_none") {
      s.verify_peer = false;
    } else {
      return refuse(key, value, "must be verify_peer or verify_none");
    }
  } else if (name == "timeout") {
    auto n = parse_int(value);
    if (!n || *n < 1 || *n > 3600) return refuse(key, value, "must be seconds, 1 to 3600");
    s.timeout = std::chrono::seconds(*n);
  } else if (name == "owner_domain") {
    if (auto why = domain_problem(value)) return refuse(key, value, *why);
    s.owner_domain = value;
  } else {
    return Error{0, "unknown setting '" + std::string(key) +
                        "' (pulse.smtp.* keys: host, port, from, admins.<n>, username, password, "
                        "tls, cacertfile, verify, timeout, owner_domain)"};
  }
  return {};
}

Status validate(const SmtpSettings& s) {
  if (!s.enabled()) return {};
  if (s.from.empty()) {
    return Error{0,
                 "pulse.smtp.from is required when pulse.smtp.host is set (the notices' "
                 "sender address)"};
  }
  if (!s.password.empty() && s.username.empty()) {
    return Error{0, "pulse.smtp.password is set without pulse.smtp.username"};
  }
  if (!s.username.empty() && s.password.empty()) {
    return Error{0, "pulse.smtp.username is set without pulse.smtp.password"};
  }
  const TlsMode tls = effective_tls(s);
  if (!s.username.empty() && tls == TlsMode::kNone && !is_loopback_host(s.host)) {
    return Error{0,
                 "pulse.smtp.username with pulse.smtp.tls = none would send the password in "
                 "clear to '" +
                     s.host +
                     "': set pulse.smtp.tls = starttls or tls (plain AUTH is allowed only to a "
                     "loopback host)"};
  }
  if (effective_port(s) == 465 && tls != TlsMode::kTls) {
    return Error{0,
                 "pulse.smtp.port = 465 is implicit TLS: pulse.smtp.tls must be tls (or "
                 "unset) there, not " +
                     std::string(tls_mode_name(tls))};
  }
  if (!s.cacertfile.empty()) {
    if (tls == TlsMode::kNone) {
      return Error{0,
                   "pulse.smtp.cacertfile is set but pulse.smtp.tls is none: set tls = "
                   "starttls or tls, or remove cacertfile"};
    }
    if (!std::ifstream(s.cacertfile)) {
      return Error{0, "pulse.smtp.cacertfile = '" + s.cacertfile + "': cannot be read"};
    }
  }
  return {};
}

}  // namespace pulse::smtp
