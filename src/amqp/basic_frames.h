#pragma once
// The message-rate paths of the codec: basic-class method frames encoded straight from views
// (no method struct, no string copies) and peeks at a method frame's ids without decoding it.
// Every encoder writes exactly the bytes the generic generated encoder writes for the same
// values (tests/unit/amqp/basic_frames_test.cc checks each against it), including its clamping
// of short strings to 255 bytes. Shared by the server (deliver, get-ok, return, confirms) and
// the client library (publish, ack, nack, reject).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "amqp/generated/constants.h"
#include "amqp/generated/methods.h"

namespace pulse::amqp {

// A (class id, method id) pair as one number: class id << 16 | method id.
constexpr uint32_t method_key(uint16_t class_id, uint16_t method_id) {
  return uint32_t{class_id} << 16 | method_id;
}
template <typename M>
inline constexpr uint32_t kMethodKey = method_key(M::kClassId, M::kMethodId);

// The key of a method frame's payload, or 0 when it is too short to have one (no method has
// key 0, so 0 never matches).
inline uint32_t method_key_of(std::span<const uint8_t> payload) {
  if (payload.size() < 4) return 0;
  return uint32_t{payload[0]} << 24 | uint32_t{payload[1]} << 16 | uint32_t{payload[2]} << 8 |
         payload[3];
}
template <typename M>
bool is_method(std::span<const uint8_t> payload) {
  return method_key_of(payload) == kMethodKey<M>;
}

// Decodes the arguments of a payload known to be M (see is_method) into `m`, reusing its
// strings' capacity. As strict as decode_method(): truncated arguments and trailing bytes fail.
template <typename M>
bool decode_method_args(std::span<const uint8_t> payload, M& m) {
  if (payload.size() < 4) return false;
  ByteReader r(payload.subspan(4));
  return m.decode_args(r) && r.empty();
}

void append_basic_publish(std::string& out, uint16_t channel, std::string_view exchange,
                          std::string_view routing_key, bool mandatory, bool immediate = false);
void append_basic_deliver(std::string& out, uint16_t channel, std::string_view consumer_tag,
                          uint64_t delivery_tag, bool redelivered, std::string_view exchange,
                          std::string_view routing_key);
void append_basic_get_ok(std::string& out, uint16_t channel, uint64_t delivery_tag,
                         bool redelivered, std::string_view exchange, std::string_view routing_key,
                         uint32_t message_count);
void append_basic_return(std::string& out, uint16_t channel, uint16_t reply_code,
                         std::string_view reply_text, std::string_view exchange,
                         std::string_view routing_key);
void append_basic_ack(std::string& out, uint16_t channel, uint64_t delivery_tag, bool multiple);
void append_basic_nack(std::string& out, uint16_t channel, uint64_t delivery_tag, bool multiple,
                       bool requeue);
void append_basic_reject(std::string& out, uint16_t channel, uint64_t delivery_tag, bool requeue);

}  // namespace pulse::amqp
