#include "broker/stored_message.h"

#include <chrono>

#include "base/bytes.h"

namespace pulse::broker {
namespace {

constexpr size_t kHeaderBytes = 1 + 1 + 1 + 8 + 4;

// Deadlines are steady-clock instants, meaningless after a restart: on disk they are wall-clock
// milliseconds, so a TTL keeps running while the broker is down, as in RabbitMQ.
uint64_t to_wall_ms(TimePoint at) {
  if (at == TimePoint::max()) return UINT64_MAX;
  auto wall = std::chrono::system_clock::now() +
              std::chrono::duration_cast<std::chrono::system_clock::duration>(at - Clock::now());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  return ms <= 0 ? 1 : static_cast<uint64_t>(ms);
}

TimePoint from_wall_ms(uint64_t ms) {
  if (ms == UINT64_MAX) return TimePoint::max();
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t left = static_cast<int64_t>(ms) - now_ms;
  return Clock::now() + std::chrono::milliseconds(left);
}

}  // namespace

void encode_stored_message(std::string& out, const Message& msg,
                           std::optional<TimePoint> expires_at, bool keep) {
  ByteWriter w(out);
  w.u8(kStoredFormat);
  w.u8(keep ? 1 : 0);
  w.u8(msg.priority());
  w.u64(expires_at ? to_wall_ms(*expires_at) : 0);
  w.u32(static_cast<uint32_t>(msg.body.size()));
  w.shortstr(msg.exchange);
  w.shortstr(msg.routing_key);
  w.longstr(msg.raw_properties());
  w.u16(static_cast<uint16_t>(msg.bcc_keys.size()));
  for (const auto& k : msg.bcc_keys) w.longstr(k);
  w.bytes(msg.body);
}

std::optional<StoredHeader> peek_stored_message(std::span<const uint8_t> data) {
  if (data.size() < kHeaderBytes || data[0] != kStoredFormat) return std::nullopt;
  ByteReader r(data);
  uint8_t format = 0, flags = 0;  // the size was checked, but GCC cannot see it
  uint64_t expires = 0;
  StoredHeader h;
  r.u8(format);
  r.u8(flags);
  r.u8(h.priority);
  r.u64(expires);
  r.u32(h.body_bytes);
  h.keep = flags & 1;
  return h;
}

std::optional<DecodedMessage> decode_stored_message(std::span<const uint8_t> data) {
  if (data.size() < kHeaderBytes || data[0] != kStoredFormat) return std::nullopt;
  ByteReader r(data);
  uint8_t format, flags, priority;
  uint64_t expires;
  uint32_t body_bytes;
  r.u8(format);
  r.u8(flags);
  r.u8(priority);
  r.u64(expires);
  r.u32(body_bytes);
  auto msg = std::make_shared<Message>();
  std::string_view raw_properties;
  uint32_t raw_len = 0;
  uint16_t nbcc = 0;
  if (!r.shortstr(msg->exchange) || !r.shortstr(msg->routing_key) || !r.u32(raw_len) ||
      !r.bytes(raw_len, raw_properties) || !r.u16(nbcc)) {
    return std::nullopt;
  }
  for (uint16_t i = 0; i < nbcc; ++i) {
    std::string k;
    if (!r.longstr(k)) return std::nullopt;
    msg->bcc_keys.push_back(std::move(k));
  }
  if (r.remaining() != body_bytes) return std::nullopt;
  std::string_view body;
  r.bytes(body_bytes, body);
  msg->body.assign(body);
  if (!msg->set_raw_properties(raw_properties)) return std::nullopt;
  DecodedMessage d;
  d.msg = std::move(msg);
  if (expires) d.expires_at = from_wall_ms(expires);
  return d;
}

}  // namespace pulse::broker
