#include "pulse/envelope.h"

#include <ctime>

namespace pulse {

namespace {

std::string meta_string(const nlohmann::json& meta, const char* key) {
  auto it = meta.find(key);
  return it != meta.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string Envelope::exchange() const {
  return meta_string(meta, "exchange");
}
std::string Envelope::routing_key() const {
  return meta_string(meta, "routing_key");
}
std::string Envelope::sent() const {
  return meta_string(meta, "sent");
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm local{};
  localtime_r(&secs, &local);
  char stamp[32], zone[8];
  const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &local);
  // strftime's %z is "+0100"; RFC 3339 wants "+01:00".
  const size_t z = std::strftime(zone, sizeof zone, "%z", &local);
  std::string out(stamp, n);
  if (z == 5) {
    out.append(zone, 3).append(":").append(zone + 3, 2);
  } else {
    out += "+00:00";
  }
  return out;
}

std::string build_envelope(const nlohmann::json& payload, std::string_view exchange,
                           std::string_view routing_key, const nlohmann::json& extra_meta,
                           std::chrono::system_clock::time_point sent) {
  nlohmann::json meta = extra_meta.is_object() ? extra_meta : nlohmann::json::object();
  meta["exchange"] = exchange;
  meta["routing_key"] = routing_key;
  meta["serializer"] = "json";
  meta["sent"] = rfc3339(sent);
  nlohmann::json body = {{"payload", payload}, {"_meta", std::move(meta)}};
  // Invalid UTF-8 in a payload string must not throw out of a publish: replace it.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Envelope> parse_envelope(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{0, "message body is not JSON"};
  Envelope e;
  if (j.is_object()) {
    auto p = j.find("payload");
    auto m = j.find("_meta");
    if (p != j.end() && m != j.end() && m->is_object()) {
      e.payload = std::move(*p);
      e.meta = std::move(*m);
      e.wrapped = true;
      return e;
    }
  }
  e.payload = std::move(j);
  return e;
}

}  // namespace pulse
