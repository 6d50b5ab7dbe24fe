#include "delivery_json.h"

#include <nlohmann/json.hpp>

#include "amqp/field_table_json.h"

namespace pulse::tools {
namespace {

using amqp::BasicProperties;

// Length of the UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF), or 0 when it is invalid or truncated.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

void append_string_field(std::string& out, std::string_view key, std::string_view value) {
  append_json_string(out, key);
  out.append(": ");
  append_json_string(out, value);
}

void append_int_field(std::string& out, std::string_view key, uint64_t value) {
  append_json_string(out, key);
  out.append(": ");
  out.append(std::to_string(value));
}

void append_properties(std::string& out, const BasicProperties* p) {
  out.append("\"properties\": {");
  if (p == nullptr) {
    out.push_back('}');
    return;
  }
  bool first = true;
  const auto sep = [&] {
    if (!first) out.append(", ");
    first = false;
  };
  const auto str = [&](uint16_t flag, std::string_view key, const std::string& v) {
    if (!p->has(flag)) return;
    sep();
    append_string_field(out, key, v);
  };
  const auto num = [&](uint16_t flag, std::string_view key, uint64_t v) {
    if (!p->has(flag)) return;
    sep();
    append_int_field(out, key, v);
  };
  str(BasicProperties::kContentType, "content_type", p->content_type);
  str(BasicProperties::kContentEncoding, "content_encoding", p->content_encoding);
  if (p->has(BasicProperties::kHeaders)) {
    sep();
    // Header values as the management API shows them (timestamps as integers, byte arrays as
    // strings); bytes that are not UTF-8 become U+FFFD rather than breaking the line.
    out.append("\"headers\": ");
    out.append(amqp::field_table_to_json(p->headers)
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  num(BasicProperties::kDeliveryMode, "delivery_mode", p->delivery_mode);
  num(BasicProperties::kPriority, "priority", p->priority);
  str(BasicProperties::kCorrelationId, "correlation_id", p->correlation_id);
  str(BasicProperties::kReplyTo, "reply_to", p->reply_to);
  str(BasicProperties::kExpiration, "expiration", p->expiration);
  str(BasicProperties::kMessageId, "message_id", p->message_id);
  num(BasicProperties::kTimestamp, "timestamp", p->timestamp);
  str(BasicProperties::kType, "type", p->type);
  str(BasicProperties::kUserId, "user_id", p->user_id);
  str(BasicProperties::kAppId, "app_id", p->app_id);
  str(BasicProperties::kClusterId, "cluster_id", p->cluster_id);
  out.push_back('}');
}

void append_body(std::string& out, std::string_view body) {
  out.append("\"body\": ");
  if (nlohmann::json::accept(body.begin(), body.end())) {
    const size_t at = out.size();
    out.append(body);
    // Raw CR and LF can only be whitespace between tokens in valid JSON (inside strings they
    // are escaped), so blanking them keeps the value and the one-line-per-message format.
    for (size_t i = at; i < out.size(); ++i) {
      if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
    }
  } else if (valid_utf8(body)) {
    append_json_string(out, body);
  } else {
    out.push_back('"');
    append_base64(out, body);
    out.append("\", \"body_encoding\": \"base64\"");
  }
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t plain = 0;  // start of the run of bytes copied as they are
  const auto copy_run = [&](size_t end) { out.append(s.data() + plain, end - plain); };
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t n = utf8_sequence(s, i); n != 0) {
        i += n;
        continue;
      }
      copy_run(i);
      out.append("\\ufffd");
      plain = ++i;
      continue;
    }
    copy_run(i);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    plain = ++i;
  }
  copy_run(s.size());
  out.push_back('"');
}

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto at = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

void append_delivery_json(std::string& out, const client::Delivery& d) {
  out.push_back('{');
  append_string_field(out, "exchange", d.exchange);
  out.append(", ");
  append_string_field(out, "routing_key", d.routing_key);
  out.append(d.redelivered ? ", \"redelivered\": true, " : ", \"redelivered\": false, ");
  append_properties(out, d.properties);
  out.append(", ");
  append_body(out, d.body);
  out.append("}\n");
}

void append_delivery_raw(std::string& out, const client::Delivery& d) {
  out.append(d.body);
  out.push_back('\n');
}

}  // namespace pulse::tools
