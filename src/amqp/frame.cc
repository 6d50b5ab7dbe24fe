#include "amqp/frame.h"

#include <cstdio>

#include "amqp/error_text.h"

namespace pulse::amqp {

FrameDecode decode_frame(std::span<const uint8_t> buf, uint32_t frame_max, uint32_t slack) {
  FrameDecode d;
  if (buf.size() < 7) return d;
  ByteReader r(buf);
  uint8_t type;
  uint16_t channel;
  uint32_t size;
  (void)r.u8(type);
  (void)r.u16(channel);
  (void)r.u32(size);
  if (frame_max != 0) {
    const uint64_t max_payload = frame_max > kFrameOverhead ? frame_max - kFrameOverhead : 0;
    if (uint64_t{size} > max_payload + slack) {
      d.status = DecodeStatus::kError;
      d.error = frame_error(type, {}, "frame_too_large", {size, max_payload});
      return d;
    }
  }
  if (buf.size() < size_t{size} + kFrameOverhead) return d;
  const auto payload = buf.subspan(7, size);
  if (buf[7 + size] != kFrameEnd) {
    d.status = DecodeStatus::kError;
    d.error = frame_error(type, payload, "invalid_frame_end_marker", {buf[7 + size]});
    return d;
  }
  d.status = DecodeStatus::kFrame;
  d.frame = FrameView{type, channel, payload};
  d.consumed = size + kFrameOverhead;
  return d;
}

FrameKind analyze_frame(const FrameView& f) {
  switch (f.type) {
    case kFrameMethod:
      return f.payload.size() >= 4 ? FrameKind::kMethod : FrameKind::kInvalid;
    case kFrameHeader:
      return f.payload.size() >= 12 ? FrameKind::kHeader : FrameKind::kInvalid;
    case kFrameBody:
      return FrameKind::kBody;
    case kFrameHeartbeat:
      return f.payload.empty() ? FrameKind::kHeartbeat : FrameKind::kInvalid;
    default:
      return FrameKind::kInvalid;
  }
}

bool decode_content_header(std::span<const uint8_t> payload, ContentHeader& out) {
  ByteReader r(payload);
  uint16_t weight;
  if (!r.u16(out.class_id) || !r.u16(weight) || !r.u64(out.body_size)) return false;
  const uint8_t* start = r.cursor();
  if (!decode_properties(r, out.properties)) return false;
  out.raw_properties = std::string_view(reinterpret_cast<const char*>(start),
                                        static_cast<size_t>(r.cursor() - start));
  return r.empty();
}

void append_heartbeat(std::string& out) {
  static constexpr char kBeat[] = {8, 0, 0, 0, 0, 0, 0, static_cast<char>(0xCE)};
  out.append(kBeat, sizeof kBeat);
}

static void append_header_frame(std::string& out, uint16_t channel, size_t body_size,
                                const auto& encode_props) {
  ByteWriter w(out);
  w.u8(kFrameHeader);
  w.u16(channel);
  size_t at = w.size();
  w.u32(0);
  w.u16(kClassBasic);
  w.u16(0);  // weight
  w.u64(body_size);
  encode_props(w);
  w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
  w.u8(kFrameEnd);
}

namespace {
char* put16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
  return p + 2;
}
char* put32(char* p, uint32_t v) {
  for (int i = 3; i >= 0; --i) *p++ = static_cast<char>(v >> (8 * i));
  return p;
}
char* put64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) *p++ = static_cast<char>(v >> (8 * i));
  return p;
}
}  // namespace

void append_content_header(std::string& out, uint16_t channel, std::string_view raw_properties,
                           uint64_t body_size) {
  char head[7 + 12];
  char* p = head;
  *p++ = static_cast<char>(kFrameHeader);
  p = put16(p, channel);
  p = put32(p, static_cast<uint32_t>(12 + raw_properties.size()));
  p = put16(p, kClassBasic);
  p = put16(p, 0);  // weight
  p = put64(p, body_size);
  out.append(head, sizeof head);
  out.append(raw_properties);
  out.push_back(static_cast<char>(kFrameEnd));
}

size_t body_frame_payload(uint32_t frame_max, size_t body_size) {
  const size_t chunk = frame_max > kFrameOverhead ? frame_max - kFrameOverhead : body_size;
  return chunk == 0 ? 1 : chunk;
}

void append_body_frame_header(std::string& out, uint16_t channel, uint32_t payload) {
  char fh[7];
  fh[0] = static_cast<char>(kFrameBody);
  put32(put16(fh + 1, channel), payload);
  out.append(fh, sizeof fh);
}

// Every delivery goes through here: the fixed parts are built on the stack and the output
// buffer grows by a few appends per frame (not a push_back per byte), with one reserve.
void append_content(std::string& out, uint16_t channel, std::string_view raw_properties,
                    std::string_view body, uint32_t frame_max) {
  const size_t chunk = body_frame_payload(frame_max, body.size());
  const size_t frames = (body.size() + chunk - 1) / chunk;
  out.reserve(out.size() + 2 * kFrameOverhead + 12 + raw_properties.size() +
              frames * kFrameOverhead + body.size());
  append_content_gathered(out, channel, raw_properties, body, frame_max,
                          [&out](std::string_view piece) { out.append(piece); });
}

void append_content(std::string& out, uint16_t channel, const BasicProperties& props,
                    std::string_view body, uint32_t frame_max) {
  append_header_frame(out, channel, body.size(),
                      [&](ByteWriter& w) { encode_properties(w, props); });
  // Field by field, independently of the hand-packed headers above: this is the reference the
  // fast paths are tested against.
  const size_t chunk = body_frame_payload(frame_max, body.size());
  ByteWriter w(out);
  for (size_t off = 0; off < body.size(); off += chunk) {
    const std::string_view piece = body.substr(off, chunk);
    w.u8(kFrameBody);
    w.u16(channel);
    w.u32(static_cast<uint32_t>(piece.size()));
    w.bytes(piece);
    w.u8(kFrameEnd);
  }
}

}  // namespace pulse::amqp
