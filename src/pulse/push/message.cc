#include "pulse/push/message.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "amqp/field_table_json.h"

namespace pulse::push {

using nlohmann::json;

namespace {

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool is_utf8(std::string_view s) {
  // nlohmann's strict dump throws on invalid UTF-8: the cheapest exact check at hand.
  try {
    (void)json(std::string(s)).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace

std::string delivery_body(const PushMessage& m) {
  json j = {{"exchange", m.exchange},
            {"routing_key", m.routing_key},
            {"redelivered", m.redelivered},
            {"properties", m.properties}};
  auto parsed = json::parse(m.body, nullptr, false);
  if (!parsed.is_discarded()) {
    j["body"] = std::move(parsed);
  } else if (is_utf8(m.body)) {
    j["body"] = m.body;
  } else {
    j["body"] = base64(m.body);
    j["body_encoding"] = "base64";
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json properties_json(const amqp::BasicProperties& p) {
  using P = amqp::BasicProperties;
  json j = json::object();
  auto text = [&](uint16_t flag, const char* name, const std::string& v) {
    if (p.flags & flag) j[name] = v;
  };
  text(P::kContentType, "content_type", p.content_type);
  text(P::kContentEncoding, "content_encoding", p.content_encoding);
  if (p.flags & P::kHeaders) j["headers"] = amqp::field_table_to_json(p.headers);
  if (p.flags & P::kDeliveryMode) j["delivery_mode"] = p.delivery_mode;
  if (p.flags & P::kPriority) j["priority"] = p.priority;
  text(P::kCorrelationId, "correlation_id", p.correlation_id);
  text(P::kReplyTo, "reply_to", p.reply_to);
  text(P::kExpiration, "expiration", p.expiration);
  text(P::kMessageId, "message_id", p.message_id);
  if (p.flags & P::kTimestamp) j["timestamp"] = p.timestamp;
  text(P::kType, "type", p.type);
  text(P::kUserId, "user_id", p.user_id);
  text(P::kAppId, "app_id", p.app_id);
  text(P::kClusterId, "cluster_id", p.cluster_id);
  return j;
}

std::string signature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

}  // namespace pulse::push
