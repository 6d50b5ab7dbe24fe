#include "broker/message.h"

#include <charconv>

namespace pulse::broker {

void Message::reencode_properties() {
  raw_properties.clear();
  ByteWriter w(raw_properties);
  amqp::encode_properties(w, properties);
}

std::optional<int64_t> parse_expiration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace pulse::broker
