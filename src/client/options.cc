#include "client/options.h"

#include <charconv>

namespace pulse::client {

namespace {

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return Error{0, "bad percent-escape"};
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return Error{0, "bad percent-escape"};
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Error uri_error(std::string_view uri, const std::string& why) {
  return Error{0, "invalid AMQP URI '" + std::string(uri) + "': " + why};
}

bool set_tls_key(TlsOptions& t, std::string_view key, std::string value) {
  if (key == "verify") {
    if (value != "verify_peer" && value != "verify_none") return false;
    t.verify_peer = value == "verify_peer";
    return true;
  }
  if (value.empty()) return false;
  if (key == "cacertfile") t.cacertfile = std::move(value);
  if (key == "certfile") t.certfile = std::move(value);
  if (key == "keyfile") t.keyfile = std::move(value);
  if (key == "server_name_indication") t.server_name_indication = std::move(value);
  return true;
}

}  // namespace

Result<ConnectionOptions> parse_uri(std::string_view uri, ConnectionOptions o) {
  const std::string_view original = uri;
  constexpr std::string_view kPlain = "amqp://", kTls = "amqps://";
  if (uri.starts_with(kPlain)) {
    uri.remove_prefix(kPlain.size());
    // The scheme picks the default port when it differs from the defaults' own.
    if (o.tls) o.port = 5672;
    o.tls = false;
  } else if (uri.starts_with(kTls)) {
    uri.remove_prefix(kTls.size());
    if (!o.tls) o.port = 5671;
    o.tls = true;
  } else {
    return uri_error(original, "the scheme must be amqp:// or amqps://");
  }
  std::string_view query;
  if (auto q = uri.find('?'); q != std::string_view::npos) {
    query = uri.substr(q + 1);
    uri = uri.substr(0, q);
  }
  std::string_view path;
  bool has_path = false;
  if (auto slash = uri.find('/'); slash != std::string_view::npos) {
    path = uri.substr(slash + 1);
    has_path = true;
    uri = uri.substr(0, slash);
  }
  if (auto at = uri.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = uri.substr(0, at);
    uri = uri.substr(at + 1);
    std::string_view user = userinfo, pass;
    bool has_pass = false;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      pass = userinfo.substr(colon + 1);
      has_pass = true;
    }
    auto u = percent_decode(user);
    if (!u) return uri_error(original, u.error().text);
    o.user = *u;
    if (has_pass) {
      auto p = percent_decode(pass);
      if (!p) return uri_error(original, p.error().text);
      o.password = *p;
    }
  }
  std::string_view host = uri, port;
  if (!host.empty() && host.front() == '[') {  // IPv6 literal
    auto close = host.find(']');
    if (close == std::string_view::npos) return uri_error(original, "unterminated '['");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty()) {
      if (port.front() != ':') return uri_error(original, "junk after ']'");
      port.remove_prefix(1);
    }
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (!host.empty()) {
    auto h = percent_decode(host);
    if (!h) return uri_error(original, h.error().text);
    o.host = *h;
  }
  if (!port.empty() && (!parse_number(port, o.port) || o.port == 0)) {
    return uri_error(original, "bad port '" + std::string(port) + "'");
  }
  if (has_path && !path.empty()) {
    auto v = percent_decode(path);
    if (!v) return uri_error(original, v.error().text);
    o.vhost = *v;
  }
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) return uri_error(original, "query needs key=value");
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    bool ok = true;
    if (key == "heartbeat") {
      uint16_t v = 0;
      ok = parse_number(value, v);
      o.heartbeat = v;
    } else if (key == "frame_max") {
      ok = parse_number(value, o.frame_max);
    } else if (key == "channel_max") {
      ok = parse_number(value, o.channel_max);
    } else if (key == "connection_timeout") {
      uint32_t ms = 0;
      ok = parse_number(value, ms);
      o.connect_timeout = std::chrono::milliseconds(ms);
    } else if (key == "auth_mechanism") {
      if (value == "plain" || value == "PLAIN") {
        o.auth_mechanism = AuthMechanism::kPlain;
      } else if (value == "external" || value == "EXTERNAL") {
        o.auth_mechanism = AuthMechanism::kExternal;
      } else {
        ok = false;
      }
    } else if (key == "cacertfile" || key == "certfile" || key == "keyfile" || key == "verify" ||
               key == "server_name_indication") {
      if (!o.tls) return uri_error(original, "'" + std::string(key) + "' needs amqps://");
      auto v = percent_decode(value);
      if (!v) return uri_error(original, v.error().text);
      ok = set_tls_key(o.tls_options, key, std::move(*v));
    } else {
      return uri_error(original, "unknown query key '" + std::string(key) + "'");
    }
    if (!ok) return uri_error(original, "bad value for '" + std::string(key) + "'");
  }
  if (o.tls_options.certfile.empty() != o.tls_options.keyfile.empty()) {
    return uri_error(original, "certfile and keyfile go together");
  }
  return o;
}

}  // namespace pulse::client
