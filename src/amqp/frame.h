#pragma once
// Sans-IO AMQP 0-9-1 framing: decode_frame() looks at bytes already received and reports a
// frame, "need more", or an error with the reply code the connection must be closed with.
// The append_* functions serialise frames into an output buffer for coalesced writes.
#include <algorithm>
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
inline constexpr size_t kFrameOverhead = 8;    // type + channel + size + frame-end
inline constexpr size_t kFrameHeaderSize = 7;  // type + channel + size

// The payload size in a frame's 7-byte header (the whole frame is that plus kFrameOverhead),
// for readers that must know how much of a frame is still to come before decode_frame() can
// take it.
inline uint32_t frame_payload_size(const uint8_t* header) {
  return uint32_t{header[3]} << 24 | uint32_t{header[4]} << 16 | uint32_t{header[5]} << 8 |
         uint32_t{header[6]};
}

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

// append_content() for writers that place body bytes themselves: each body frame's payload is
// handed to `put_payload(std::string_view)`, which appends it to `out` or queues it to be sent
// from where it is (a gathered write), between its frame header and frame end.
template <typename PutPayload>
void append_content_gathered(std::string& out, uint16_t channel, std::string_view raw_properties,
                             std::string_view body, uint32_t frame_max, PutPayload&& put_payload) {
  append_content_header(out, channel, raw_properties, body.size());
  const size_t chunk = body_frame_payload(frame_max, body.size());
  for (size_t off = 0; off < body.size(); off += chunk) {
    const size_t n = std::min(chunk, body.size() - off);
    append_body_frame_header(out, channel, static_cast<uint32_t>(n));
    put_payload(body.substr(off, n));
    out.push_back(static_cast<char>(kFrameEnd));
  }
}

}  // namespace pulse::amqp
