// The Pulse envelope (src/pulse/envelope.h). The first input byte picks the mode:
//  - even: the rest is a message body for parse_envelope; whatever it accepts is rebuilt with
//    build_envelope (its meta as extra fields) and must parse back to the same payload, the
//    same exchange and routing key and the extra meta fields kept;
//  - odd: two lines (exchange and routing key, any bytes: AMQP short strings need not be
//    UTF-8) and a JSON payload; build_envelope must not throw and its body must parse as an
//    envelope with that payload.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "pulse/envelope.h"

namespace {

using nlohmann::json;
using pulse::fuzz::check;

const auto kSent = std::chrono::system_clock::time_point(std::chrono::seconds(1406893602));

void round_trip(std::string_view body) {
  auto e = pulse::parse_envelope(body);
  if (!e) return;
  check(e->meta.is_object(), "meta is an object");
  check(e->wrapped || e->meta.empty(), "a bare payload has no meta");
  std::string rebuilt =
      pulse::build_envelope(e->payload, e->exchange(), e->routing_key(), e->meta, kSent);
  auto back = pulse::parse_envelope(rebuilt);
  check(back.ok() && back->wrapped, "a built envelope parses as an envelope");
  check(back->payload == e->payload, "the payload survives");
  check(back->exchange() == e->exchange(), "the exchange survives");
  check(back->routing_key() == e->routing_key(), "the routing key survives");
  check(back->sent() == pulse::rfc3339(kSent), "sent is the build's");
  check(back->meta.value("serializer", "") == "json", "serializer is json");
  for (const auto& [k, v] : e->meta.items()) {
    if (k == "exchange" || k == "routing_key" || k == "serializer" || k == "sent") continue;
    check(back->meta.contains(k) && back->meta[k] == v, "extra meta fields are kept");
  }
}

std::string take_line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string line(rest.substr(0, nl));
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

void build(std::string_view rest) {
  std::string exchange = take_line(rest);
  std::string key = take_line(rest);
  json payload = json::parse(rest, nullptr, false);
  if (payload.is_discarded()) return;
  std::string body = pulse::build_envelope(payload, exchange, key, nullptr, kSent);
  auto back = pulse::parse_envelope(body);
  check(back.ok() && back->wrapped, "a built envelope parses as an envelope");
  check(back->payload == payload, "the payload survives");
  check(back->meta.size() == 4, "four meta fields");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0)
    round_trip(rest);
  else
    build(rest);
  return 0;
}
