#pragma once
// Sans-IO AMQP 0-9-1 framing: decode_frame() looks at bytes already received and reports a
// frame, "need more", or an error with the reply code the connection must be closed with.
// The append_* functions serialise frames into an output buffer for coalesced writes.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "amqp/generated/constants.h"
#include "amqp/generated/methods.h"
#include "amqp/generated/properties.h"
#include "base/result.h"

namespace pulse::amqp {

inline constexpr std::string_view kProtocolHeader{"AMQP\x00\x00\x09\x01", 8};
inline constexpr size_t kFrameOverhead = 8;  // type + channel + size + frame-end

struct FrameView {
  uint8_t type = 0;
  uint16_t channel = 0;
  std::span<const uint8_t> payload;
};

enum class DecodeStatus { kFrame, kNeedMore, kError };

struct FrameDecode {
  DecodeStatus status = DecodeStatus::kNeedMore;
  FrameView frame;
  size_t consumed = 0;
  Error error;
};

// frame_max bounds the whole frame including its 8 bytes of overhead (0 = no limit); `slack`
// extra payload bytes are tolerated (RabbitMQ accepts 8, as many clients are off by the overhead).
// Errors carry RabbitMQ's texts; after one the stream is out of sync and must be dropped.
FrameDecode decode_frame(std::span<const uint8_t> buf, uint32_t frame_max, uint32_t slack = 0);

// RabbitMQ's analyze_frame: what a frame's type and payload shape make of it. Method frames need
// their class and method ids, header frames their 12 fixed bytes, heartbeats an empty payload;
// anything else is kInvalid, which RabbitMQ reports as FRAME_ERROR ... unknown_frame.
enum class FrameKind { kMethod, kHeader, kBody, kHeartbeat, kInvalid };
FrameKind analyze_frame(const FrameView& f);

struct ContentHeader {
  uint16_t class_id = 0;
  uint64_t body_size = 0;
  BasicProperties properties;
  // The encoded property flags and fields as received, forwarded unchanged when possible.
  std::string_view raw_properties;
};

bool decode_content_header(std::span<const uint8_t> payload, ContentHeader& out);

template <typename M>
void append_method_frame(std::string& out, uint16_t channel, const M& m) {
  ByteWriter w(out);
  w.u8(kFrameMethod);
  w.u16(channel);
  size_t at = w.size();
  w.u32(0);
  encode_method(w, m);
  w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
  w.u8(kFrameEnd);
}

void append_heartbeat(std::string& out);

// Appends a content header frame (with already-encoded properties) and the body split into
// frames of at most frame_max bytes.
void append_content(std::string& out, uint16_t channel, std::string_view raw_properties,
                    std::string_view body, uint32_t frame_max);
void append_content(std::string& out, uint16_t channel, const BasicProperties& props,
                    std::string_view body, uint32_t frame_max);

// The pieces of append_content, for writers that send large bodies from where they already are
// (gathered writes) instead of copying them: the content header frame, the payload size of each
// body frame under frame_max, and one body frame's 7-byte header (its payload and kFrameEnd
// follow).
void append_content_header(std::string& out, uint16_t channel, std::string_view raw_properties,
                           uint64_t body_size);
size_t body_frame_payload(uint32_t frame_max, size_t body_size);
void append_body_frame_header(std::string& out, uint16_t channel, uint32_t payload);

}  // namespace pulse::amqp
