#include "server/frames_out.h"

#include <algorithm>
#include <cstring>

#include "amqp/frame.h"

namespace pulse::server {

namespace {
template <typename Fn>
void method_frame(std::string& out, uint16_t channel, uint16_t class_id, uint16_t method_id,
                  Fn&& args) {
  ByteWriter w(out);
  w.u8(amqp::kFrameMethod);
  w.u16(channel);
  size_t at = w.size();
  w.u32(0);
  w.u16(class_id);
  w.u16(method_id);
  args(w);
  w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
  w.u8(amqp::kFrameEnd);
}
}  // namespace

// One per delivery: built on the stack (every field is bounded: three short strings) and
// appended once, rather than growing the output buffer byte by byte.
void append_basic_deliver(std::string& out, uint16_t channel, std::string_view consumer_tag,
                          uint64_t delivery_tag, bool redelivered, std::string_view exchange,
                          std::string_view routing_key) {
  char buf[7 + 4 + 3 * 256 + 8 + 1 + 1];
  size_t n = 0;
  auto u8 = [&](uint8_t v) { buf[n++] = static_cast<char>(v); };
  auto be = [&](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) u8(static_cast<uint8_t>(v >> (8 * i)));
  };
  auto shortstr = [&](std::string_view s) {
    const size_t len = std::min<size_t>(s.size(), 255);
    u8(static_cast<uint8_t>(len));
    std::memcpy(buf + n, s.data(), len);
    n += len;
  };
  u8(amqp::kFrameMethod);
  be(channel, 2);
  be(0, 4);  // size, patched below
  be(60, 2);
  be(60, 2);
  shortstr(consumer_tag);
  be(delivery_tag, 8);
  u8(redelivered ? 1 : 0);
  shortstr(exchange);
  shortstr(routing_key);
  const size_t size = n - 7;
  for (int i = 0; i < 4; ++i) buf[3 + i] = static_cast<char>(size >> (8 * (3 - i)));
  u8(amqp::kFrameEnd);
  out.append(buf, n);
}

void append_basic_get_ok(std::string& out, uint16_t channel, uint64_t delivery_tag,
                         bool redelivered, std::string_view exchange, std::string_view routing_key,
                         uint32_t message_count) {
  method_frame(out, channel, 60, 71, [&](ByteWriter& w) {
    w.u64(delivery_tag);
    w.u8(redelivered ? 1 : 0);
    w.shortstr(exchange);
    w.shortstr(routing_key);
    w.u32(message_count);
  });
}

void append_basic_return(std::string& out, uint16_t channel, uint16_t reply_code,
                         std::string_view reply_text, std::string_view exchange,
                         std::string_view routing_key) {
  method_frame(out, channel, 60, 50, [&](ByteWriter& w) {
    w.u16(reply_code);
    w.shortstr(reply_text);
    w.shortstr(exchange);
    w.shortstr(routing_key);
  });
}

void append_content(OutputQueue& out, uint16_t channel, const broker::MessagePtr& msg,
                    uint32_t frame_max) {
  const std::string_view body = msg->body;
  if (body.size() < OutputQueue::kShareMin) {
    amqp::append_content(out.bytes(), channel, msg->raw_properties(), body, frame_max);
    return;
  }
  amqp::append_content_header(out.bytes(), channel, msg->raw_properties(), body.size());
  const size_t chunk = amqp::body_frame_payload(frame_max, body.size());
  for (size_t off = 0; off < body.size(); off += chunk) {
    const size_t n = std::min(chunk, body.size() - off);
    amqp::append_body_frame_header(out.bytes(), channel, static_cast<uint32_t>(n));
    out.append_shared(msg, body.substr(off, n));
    out.bytes().push_back(static_cast<char>(amqp::kFrameEnd));
  }
}

}  // namespace pulse::server
