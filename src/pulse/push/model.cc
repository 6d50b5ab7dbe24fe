#include "pulse/push/model.h"

#include <openssl/rand.h>

#include <array>
#include <cctype>

#include "base/rfc3339.h"

namespace pulse::push {

using nlohmann::json;

namespace {

Error bad(std::string text) {
  return Error{400, std::move(text)};
}

// UTF-8 well-formedness: a binding key is an AMQP shortstr that RabbitMQ reads as UTF-8.
bool utf8_ok(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80             ? 0
                     : (c & 0xE0) == 0xC0 ? 1
                     : (c & 0xF0) == 0xE0 ? 2
                     : (c & 0xF8) == 0xF0 ? 3
                                          : 4;
    if (n == 4 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

std::optional<std::string> str(const json& body, const char* key, size_t max, bool required,
                               std::string& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required && error.empty()) error = std::string("'") + key + "' is required";
    return std::nullopt;
  }
  if (!it->is_string()) {
    if (error.empty()) error = std::string("'") + key + "' must be a string";
    return std::nullopt;
  }
  auto s = it->get<std::string>();
  if (s.size() > max && error.empty())
    error = std::string("'") + key + "' is longer than " + std::to_string(max) + " characters";
  return s;
}

}  // namespace

const char* state_name(State s) {
  switch (s) {
    case State::kVerifying:
      return "verifying";
    case State::kActive:
      return "active";
    case State::kFailed:
      return "failed";
    case State::kEnded:
      return "ended";
  }
  return "?";
}

std::optional<State> parse_state(std::string_view s) {
  for (State st : {State::kVerifying, State::kActive, State::kFailed, State::kEnded})
    if (s == state_name(st)) return st;
  return std::nullopt;
}

Status check_topic(std::string_view topic) {
  if (topic.empty()) return bad("'topic' must not be empty (use '#' for every message)");
  if (topic.size() > 255) return bad("'topic' is longer than 255 bytes");
  if (!utf8_ok(topic)) return bad("'topic' is not valid UTF-8");
  size_t start = 0;
  while (true) {
    const size_t dot = topic.find('.', start);
    const auto word = topic.substr(start, dot == std::string_view::npos ? topic.npos : dot - start);
    if (word.empty())
      return bad("'topic' '" + std::string(topic) +
                 "' has an empty word (two dots, or a dot at "
                 "either end)");
    if (word.size() > 1 && (word.find('*') != word.npos || word.find('#') != word.npos))
      return bad("'topic' '" + std::string(topic) + "': '*' and '#' must be whole words");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

Result<std::string> check_callback(std::string_view url, size_t max) {
  if (url.size() > max)
    return bad("'callback' is longer than " + std::to_string(max) + " characters");
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return bad(
          "'callback' must be a URL without spaces or control characters (percent-encode "
          "them)");
  }
  size_t scheme = 0;
  if (url.starts_with("http://")) {
    scheme = 7;
  } else if (url.starts_with("https://")) {
    scheme = 8;
  } else {
    return bad("'callback' must be an http:// or https:// URL");
  }
  if (url.find('#') != url.npos) return bad("'callback' must not have a fragment ('#')");
  const size_t end = url.find_first_of("/?", scheme);
  const auto authority = url.substr(scheme, end == url.npos ? url.npos : end - scheme);
  if (authority.find('@') != authority.npos)
    return bad("'callback' must not carry user information (use the secret)");
  std::string_view host = authority;
  std::string_view port;
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    if (close == host.npos) return bad("'callback' has a malformed IPv6 host");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && !port.starts_with(':')) return bad("'callback' has a malformed port");
    if (!port.empty()) port.remove_prefix(1);
  } else if (const size_t colon = host.rfind(':'); colon != host.npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return bad("'callback' has no host");
  if (authority.find(':') != authority.npos && !authority.starts_with('[') && port.empty())
    return bad("'callback' has an empty port");
  if (!port.empty()) {
    bool digits = port.size() <= 5;
    for (char c : port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
      return bad("'callback' has a bad port '" + std::string(port) + "'");
  }
  std::string out(url);
  // The HTTP client sends the path as given; a bare host means "/".
  if (end == url.npos || url[end] == '?') out.insert(end == url.npos ? out.size() : end, "/");
  return out;
}

Result<Request> parse_request(const json& body, const Limits& limits) {
  if (!body.is_object()) return bad("the body must be a JSON object");
  static constexpr std::array<std::string_view, 7> kKnown = {
      "vhost", "exchange", "topic", "callback", "secret", "lease_seconds", "user"};
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (auto n : kKnown) known = known || k == n;
    if (!known) return bad("unknown field '" + k + "'");
  }
  std::string error;
  Request r;
  if (auto v = str(body, "vhost", 255, false, error)) r.vhost = *v;
  if (auto v = str(body, "exchange", 255, true, error)) r.exchange = *v;
  if (auto v = str(body, "topic", limits.max_topic, false, error)) r.topic = *v;
  if (auto v = str(body, "callback", limits.max_callback, true, error)) r.callback = *v;
  if (auto v = str(body, "secret", limits.max_secret, true, error)) r.secret = *v;
  if (auto v = str(body, "user", 100, false, error)) r.queue_owner = *v;
  if (!error.empty()) return bad(error);
  if (r.vhost.empty() || !utf8_ok(r.vhost)) return bad("'vhost' must be 1..255 bytes of UTF-8");
  if (r.exchange.empty() || !utf8_ok(r.exchange))
    return bad("'exchange' must be 1..255 bytes of UTF-8 (the default exchange cannot be bound)");
  if (r.secret.empty()) return bad("'secret' must not be empty");
  if (r.queue_owner.find('/') != std::string::npos) return bad("'user' must not contain '/'");
  if (auto s = check_topic(r.topic); !s) return s.error();
  auto cb = check_callback(r.callback, limits.max_callback);
  if (!cb) return cb.error();
  r.callback = *cb;
  r.lease_seconds = limits.default_lease_seconds;
  if (auto it = body.find("lease_seconds"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() && !it->is_number_unsigned())
      return bad("'lease_seconds' must be a whole number of seconds");
    const auto v = it->get<int64_t>();
    if (v < 0 || static_cast<uint64_t>(v) < limits.min_lease_seconds ||
        static_cast<uint64_t>(v) > limits.max_lease_seconds)
      return bad("'lease_seconds' must be between " + std::to_string(limits.min_lease_seconds) +
                 " and " + std::to_string(limits.max_lease_seconds));
    r.lease_seconds = static_cast<uint64_t>(v);
  }
  return r;
}

namespace {

int64_t ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint from_ms(int64_t v) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(v)));
}

}  // namespace

json to_record(const Subscription& s) {
  json j = {{"id", s.id},
            {"owner", s.owner},
            {"queue_owner", s.queue_owner},
            {"vhost", s.vhost},
            {"exchange", s.exchange},
            {"topic", s.topic},
            {"callback", s.callback},
            {"secret", s.secret},
            {"lease_seconds", s.lease_seconds},
            {"created_ms", ms(s.created)},
            {"expires_ms", ms(s.expires)},
            {"state", state_name(s.state)},
            {"reason", s.reason},
            {"delivered", s.delivered},
            {"failed", s.failed},
            {"last_error", s.last_error}};
  if (s.last_delivery) j["last_delivery_ms"] = ms(*s.last_delivery);
  return j;
}

Result<Subscription> from_record(const json& j) {
  try {
    Subscription s;
    s.id = j.at("id").get<std::string>();
    s.owner = j.at("owner").get<std::string>();
    s.queue_owner = j.at("queue_owner").get<std::string>();
    s.vhost = j.at("vhost").get<std::string>();
    s.exchange = j.at("exchange").get<std::string>();
    s.topic = j.at("topic").get<std::string>();
    s.callback = j.at("callback").get<std::string>();
    s.secret = j.at("secret").get<std::string>();
    s.lease_seconds = j.at("lease_seconds").get<uint64_t>();
    s.created = from_ms(j.at("created_ms").get<int64_t>());
    s.expires = from_ms(j.at("expires_ms").get<int64_t>());
    auto st = parse_state(j.at("state").get<std::string>());
    if (!st) return Error{500, "subscription record: unknown state"};
    s.state = *st;
    s.reason = j.value("reason", "");
    s.delivered = j.value("delivered", uint64_t{0});
    s.failed = j.value("failed", uint64_t{0});
    s.last_error = j.value("last_error", "");
    if (j.contains("last_delivery_ms"))
      s.last_delivery = from_ms(j.at("last_delivery_ms").get<int64_t>());
    if (s.id.empty()) return Error{500, "subscription record without an id"};
    return s;
  } catch (const std::exception& e) {
    return Error{500, std::string("subscription record: ") + e.what()};
  }
}

std::string random_hex(size_t digits) {
  std::string bytes((digits + 1) / 2, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) !=
      1) {
    // OpenSSL's generator failing is a broken system; fall back rather than crash.
    for (auto& b : bytes) b = static_cast<char>(std::rand());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char b : bytes) {
    out.push_back(kHex[(static_cast<unsigned char>(b) >> 4) & 15]);
    out.push_back(kHex[static_cast<unsigned char>(b) & 15]);
  }
  out.resize(digits);
  return out;
}

}  // namespace pulse::push
