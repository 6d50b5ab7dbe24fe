#include "server/frames_out.h"

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

void append_basic_deliver(std::string& out, uint16_t channel, std::string_view consumer_tag,
                          uint64_t delivery_tag, bool redelivered, std::string_view exchange,
                          std::string_view routing_key) {
  method_frame(out, channel, 60, 60, [&](ByteWriter& w) {
    w.shortstr(consumer_tag);
    w.u64(delivery_tag);
    w.u8(redelivered ? 1 : 0);
    w.shortstr(exchange);
    w.shortstr(routing_key);
  });
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

}  // namespace pulse::server
