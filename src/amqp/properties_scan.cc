#include "amqp/properties_scan.h"

#include "amqp/generated/properties.h"
#include "base/bytes.h"

namespace pulse::amqp {

namespace {
bool skip_shortstr(ByteReader& r) {
  uint8_t n;
  return r.u8(n) && r.skip(n);
}
}  // namespace

bool scan_properties(std::span<const uint8_t> raw, PropertiesScan& out) {
  using P = BasicProperties;
  ByteReader r(raw);
  out = PropertiesScan{};
  if (!r.u16(out.flags) || (out.flags & 1u)) return false;
  const uint16_t f = out.flags;
  if ((f & P::kContentType) && !skip_shortstr(r)) return false;
  if ((f & P::kContentEncoding) && !skip_shortstr(r)) return false;
  if (f & P::kHeaders) {
    uint32_t n;
    if (!r.u32(n) || !r.skip(n)) return false;
  }
  if ((f & P::kDeliveryMode) && !r.u8(out.delivery_mode)) return false;
  if ((f & P::kPriority) && !r.u8(out.priority)) return false;
  if ((f & P::kCorrelationId) && !skip_shortstr(r)) return false;
  if ((f & P::kReplyTo) && !skip_shortstr(r)) return false;
  if (f & P::kExpiration) {
    uint8_t n;
    if (!r.u8(n) || !r.bytes(n, out.expiration)) return false;
  }
  if ((f & P::kMessageId) && !skip_shortstr(r)) return false;
  if ((f & P::kTimestamp) && !r.skip(8)) return false;
  if ((f & P::kType) && !skip_shortstr(r)) return false;
  if ((f & P::kUserId) && !skip_shortstr(r)) return false;
  if ((f & P::kAppId) && !skip_shortstr(r)) return false;
  if ((f & P::kClusterId) && !skip_shortstr(r)) return false;
  return r.empty();
}

bool split_content_header(std::span<const uint8_t> payload, ContentHeaderView& out) {
  ByteReader r(payload);
  if (!r.u16(out.class_id) || !r.u16(out.weight) || !r.u64(out.body_size)) return false;
  out.raw_properties = payload.subspan(r.position());
  return true;
}

}  // namespace pulse::amqp
