#pragma once
// The bytes a QueueStore keeps per message: everything needed to deliver it again after a
// restart or a page-in, with the properties in their wire encoding (no re-encoding on the way
// out). Sans-IO; versioned by its first byte.
//
//   u8 format (1) | u8 flags (bit 0: keep across restart) | u8 priority | u64 expires (wall-clock
//   ms since the epoch; 0 none) | u32 body length | shortstr exchange | shortstr routing key |
//   longstr properties | u16 count, longstr BCC keys | body
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "broker/message.h"

namespace pulse::broker {

inline constexpr uint8_t kStoredFormat = 1;

void encode_stored_message(std::string& out, const Message& msg,
                           std::optional<TimePoint> expires_at, bool keep);

// What recovery needs without decoding the whole record.
struct StoredHeader {
  bool keep = false;
  uint8_t priority = 0;
  uint32_t body_bytes = 0;
};
std::optional<StoredHeader> peek_stored_message(std::span<const uint8_t> data);

struct DecodedMessage {
  MessagePtr msg;
  std::optional<TimePoint> expires_at;
};
// nullopt when the bytes are not a stored message (damage the checksum did not catch).
std::optional<DecodedMessage> decode_stored_message(std::span<const uint8_t> data);

}  // namespace pulse::broker
