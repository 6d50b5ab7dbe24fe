#include "stomp_server/mapping.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "amqp/error_text.h"
#include "auth/password.h"

namespace pulse::stomp_server {

namespace {

constexpr std::string_view kPropertyHeaders[] = {
    "content-type", "content-encoding", "persistent",      "priority",  "correlation-id",
    "reply-to",     "expiration",       "amqp-message-id", "timestamp", "type",
    "user-id",      "app-id",           "destination"};

bool user_header(std::string_view name) {
  return std::find(std::begin(kPropertyHeaders), std::end(kPropertyHeaders), name) ==
         std::end(kPropertyHeaders);
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<int64_t> to_integer(std::string_view s) {
  s = strip(s);
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return neg ? -v : v;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out.data() + got, n - got, 0);
    if (r > 0) got += static_cast<size_t>(r);
  }
  return out;
}

std::string md5(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

// term_to_binary of an Erlang string (a list of bytes): NIL_EXT, or STRING_EXT up to 65535
// elements, else a LIST_EXT of SMALL_INTEGER_EXTs.
void erlang_string(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.push_back(static_cast<char>(106));
    return;
  }
  if (s.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(107));
    out.push_back(static_cast<char>(s.size() >> 8));
    out.push_back(static_cast<char>(s.size() & 0xFF));
    out.append(s);
    return;
  }
  out.push_back(static_cast<char>(108));
  const uint32_t n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xFF));
  for (char c : s) {
    out.push_back(static_cast<char>(97));
    out.push_back(c);
  }
  out.push_back(static_cast<char>(106));
}

}  // namespace

std::string base64url(std::string_view bytes) {
  std::string s = auth::base64_encode(bytes);
  std::string out;
  for (char c : s) {
    if (c == '+')
      out.push_back('-');
    else if (c == '/')
      out.push_back('_');
    else if (c != '=')
      out.push_back(c);
  }
  return out;
}

std::string erl_quote(std::string_view s) {
  auto printable = [](unsigned char c) {
    return (c >= 32 && c <= 126) || c >= 160 || c == '\n' || c == '\r' || c == '\t' || c == '\v' ||
           c == '\b' || c == '\f' || c == 27;
  };
  if (!std::all_of(s.begin(), s.end(),
                   [&](char c) { return printable(static_cast<unsigned char>(c)); })) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) {
      if (i) out.push_back(',');
      out += std::to_string(static_cast<unsigned char>(s[i]));
    }
    return out + "]";
  }
  std::string out = "\"";
  amqp::append_erlang_escaped(out, s);
  return out + "\"";
}

std::optional<bool> string_to_boolean(std::string_view v) {
  if (v == "true" || v == "True") return true;
  if (v == "false" || v == "False") return false;
  return std::nullopt;
}

std::optional<bool> boolean_header(const stomp::Frame& f, std::string_view name) {
  const std::string* v = f.header(name);
  return v ? string_to_boolean(*v) : std::nullopt;
}

std::optional<int64_t> integer_header(const stomp::Frame& f, std::string_view name) {
  const std::string* v = f.header(name);
  return v ? to_integer(*v) : std::nullopt;
}

amqp::BasicProperties message_properties(const stomp::Frame& frame) {
  amqp::BasicProperties p;
  auto str = [&](std::string_view name, uint16_t flag, std::string& field) {
    if (const std::string* v = frame.header(name)) {
      field = *v;
      p.flags |= flag;
    }
  };
  using P = amqp::BasicProperties;
  str("content-type", P::kContentType, p.content_type);
  str("content-encoding", P::kContentEncoding, p.content_encoding);
  // RabbitMQ keeps the first occurrence of a header and lists them last-first.
  amqp::FieldTable headers;
  for (auto it = frame.headers.rbegin(); it != frame.headers.rend(); ++it) {
    if (!user_header(it->name) || frame.header(it->name) != &it->value) continue;
    headers.emplace_back(it->name, amqp::FieldValue(it->value));
  }
  p.headers = std::move(headers);
  p.flags |= P::kHeaders;
  if (boolean_header(frame, "persistent") == true) {
    p.delivery_mode = 2;
    p.flags |= P::kDeliveryMode;
  }
  if (auto v = integer_header(frame, "priority")) {
    p.priority = static_cast<uint8_t>(*v);
    p.flags |= P::kPriority;
  }
  str("correlation-id", P::kCorrelationId, p.correlation_id);
  str("reply-to", P::kReplyTo, p.reply_to);
  str("expiration", P::kExpiration, p.expiration);
  str("amqp-message-id", P::kMessageId, p.message_id);
  if (auto v = integer_header(frame, "timestamp")) {
    p.timestamp = static_cast<uint64_t>(*v);
    p.flags |= P::kTimestamp;
  }
  str("type", P::kType, p.type);
  str("user-id", P::kUserId, p.user_id);
  str("app-id", P::kAppId, p.app_id);
  return p;
}

std::vector<stomp::Header> message_headers(const amqp::BasicProperties& p) {
  std::vector<stomp::Header> out;
  if (p.has(amqp::BasicProperties::kHeaders)) {
    for (const auto& [k, v] : p.headers) {
      if (const std::string* s = v.as_string()) {
        out.push_back({k, *s});
      } else if (auto* i = std::get_if<int32_t>(&v.v)) {
        out.push_back({k, std::to_string(*i)});
      } else if (auto* l = std::get_if<int64_t>(&v.v)) {
        out.push_back({k, std::to_string(*l)});
      }
    }
  }
  using P = amqp::BasicProperties;
  auto str = [&](const char* name, uint16_t flag, const std::string& v) {
    if (p.has(flag)) out.push_back({name, v});
  };
  str("app-id", P::kAppId, p.app_id);
  str("user-id", P::kUserId, p.user_id);
  str("type", P::kType, p.type);
  if (p.has(P::kTimestamp)) out.push_back({"timestamp", std::to_string(p.timestamp)});
  str("amqp-message-id", P::kMessageId, p.message_id);
  str("expiration", P::kExpiration, p.expiration);
  if (p.has(P::kReplyTo)) {
    static constexpr std::string_view kPrefixes[] = {"/exchange", "/topic", "/queue", "/amq/queue",
                                                     "/reply-queue/"};
    bool dest = std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                            [&](std::string_view pre) { return p.reply_to.starts_with(pre); });
    out.push_back({"reply-to", dest ? p.reply_to : "/reply-queue/" + p.reply_to});
  }
  str("correlation-id", P::kCorrelationId, p.correlation_id);
  if (p.has(P::kPriority)) out.push_back({"priority", std::to_string(p.priority)});
  if (p.has(P::kDeliveryMode)) {
    out.push_back({"persistent",
                   p.delivery_mode == 2 ? std::string("true") : std::to_string(p.delivery_mode)});
  }
  str("content-encoding", P::kContentEncoding, p.content_encoding);
  str("content-type", P::kContentType, p.content_type);
  return out;
}

std::string escape_destination(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '/') {
      out += "%2F";
    } else if (c == '%') {
      out += "%25";
    } else if (c < 32 || c > 127) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string format_destination(std::string_view exchange, std::string_view key) {
  if (exchange.empty()) return "/queue/" + escape_destination(key);
  if (exchange == "amq.topic") return "/topic/" + escape_destination(key);
  if (key.empty()) return "/exchange/" + escape_destination(exchange);
  return "/exchange/" + escape_destination(exchange) + "/" + escape_destination(key);
}

std::string subscription_queue_name(std::string_view name, std::string_view id) {
  std::string term{static_cast<char>(131), static_cast<char>(104), static_cast<char>(2)};
  erlang_string(term, name);
  erlang_string(term, id);
  return "stomp-subscription-" + base64url(md5(term));
}

std::string random_subscription_queue_name() {
  return "stomp-subscription-" + base64url(md5(random_bytes(16)));
}

std::string new_session_id() {
  return "session-" + base64url(random_bytes(16));
}

std::string create_message_id(std::string_view tag, std::string_view session, uint64_t delivery) {
  std::string out(tag);
  out += "@@";
  out += session;
  out += "@@";
  out += std::to_string(delivery);
  return out;
}

std::optional<MessageId> parse_message_id(std::string_view id) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = id.find("@@", start);
    if (at == std::string_view::npos) {
      parts.push_back(id.substr(start));
      break;
    }
    parts.push_back(id.substr(start, at - start));
    start = at + 2;
  }
  if (parts.size() != 3) return std::nullopt;
  uint64_t tag = 0;
  auto [p, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), tag);
  if (ec != std::errc() || p != parts[2].data() + parts[2].size() || parts[2].empty())
    return std::nullopt;
  return MessageId{std::string(parts[0]), std::string(parts[1]), tag};
}

std::optional<amqp::FieldTable> queue_arguments(const stomp::Frame& f) {
  static constexpr std::string_view kStrings[] = {"x-dead-letter-exchange",
                                                  "x-dead-letter-routing-key", "x-queue-type"};
  static constexpr std::string_view kLongs[] = {"x-expires", "x-max-length", "x-max-length-bytes",
                                                "x-max-priority", "x-message-ttl"};
  amqp::FieldTable args;
  // RabbitMQ folds the headers (stored last-first) onto a list head: frame order results.
  for (const auto& h : f.headers) {
    if (f.header(h.name) != &h.value) continue;
    if (std::find(std::begin(kStrings), std::end(kStrings), h.name) != std::end(kStrings)) {
      args.emplace_back(h.name, amqp::FieldValue(std::string(strip(h.value))));
    } else if (std::find(std::begin(kLongs), std::end(kLongs), h.name) != std::end(kLongs)) {
      auto v = to_integer(h.value);
      if (!v) return std::nullopt;
      args.emplace_back(h.name, amqp::FieldValue(*v));
    }
  }
  return args;
}

}  // namespace pulse::stomp_server
