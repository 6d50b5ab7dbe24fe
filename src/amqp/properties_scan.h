#pragma once
// A walk over encoded basic properties that picks out the few fields the broker acts on for
// every message, without decoding (and allocating) the rest. Brokers forward properties as they
// were received, so most messages never need a full `BasicProperties`.
#include <cstdint>
#include <span>
#include <string_view>

namespace pulse::amqp {

struct PropertiesScan {
  uint16_t flags = 0;  // presence bits as on the wire (BasicProperties::k*)
  uint8_t delivery_mode = 0;
  uint8_t priority = 0;
  std::string_view expiration;  // points into the scanned bytes
};

// False when the bytes are not a well-formed property list: a field runs past the end,
// bytes are left over, or the flags ask for a continuation word. Field-table contents are
// only skipped by their length: callers that need the headers decode them (which validates).
bool scan_properties(std::span<const uint8_t> raw, PropertiesScan& out);

// The fixed part of a content header frame's payload (class, weight, body size) and the
// property bytes after it. False when the payload is shorter than the fixed part.
struct ContentHeaderView {
  uint16_t class_id = 0;
  uint16_t weight = 0;
  uint64_t body_size = 0;
  std::span<const uint8_t> raw_properties;
};
bool split_content_header(std::span<const uint8_t> payload, ContentHeaderView& out);

}  // namespace pulse::amqp
