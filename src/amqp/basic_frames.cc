#include "amqp/basic_frames.h"

#include <algorithm>
#include <cstring>

namespace pulse::amqp {

namespace {

// A method frame assembled on the stack and appended to the output in one go: every field of
// these methods is bounded (at most three short strings), and one append is much cheaper than
// growing the output buffer field by field at a million frames a second.
template <size_t kArgsMax>
class StackMethodFrame {
 public:
  StackMethodFrame(uint16_t channel, uint32_t key) {
    u8(static_cast<uint8_t>(kFrameMethod));
    be(channel, 2);
    n_ += 4;  // payload size, known in append_to()
    be(key, 4);
  }
  void u8(uint8_t v) { buf_[n_++] = static_cast<char>(v); }
  void be(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  // Clamped to 255 bytes like ByteWriter::shortstr, so both encoders agree on every input.
  void shortstr(std::string_view s) {
    const size_t len = std::min<size_t>(s.size(), 255);
    u8(static_cast<uint8_t>(len));
    std::memcpy(buf_ + n_, s.data(), len);
    n_ += len;
  }
  void append_to(std::string& out) {
    const size_t size = n_ - 7;
    for (int i = 0; i < 4; ++i) buf_[3 + i] = static_cast<char>(size >> (8 * (3 - i)));
    u8(static_cast<uint8_t>(kFrameEnd));
    out.append(buf_, n_);
  }

 private:
  char buf_[7 + 4 + kArgsMax + 1];
  size_t n_ = 0;
};

constexpr size_t kShortstrMax = 1 + 255;

}  // namespace

void append_basic_publish(std::string& out, uint16_t channel, std::string_view exchange,
                          std::string_view routing_key, bool mandatory, bool immediate) {
  StackMethodFrame<2 + 2 * kShortstrMax + 1> f(channel, kMethodKey<BasicPublish>);
  f.be(0, 2);  // ticket
  f.shortstr(exchange);
  f.shortstr(routing_key);
  f.u8(static_cast<uint8_t>((mandatory ? 1 : 0) | (immediate ? 2 : 0)));
  f.append_to(out);
}

void append_basic_deliver(std::string& out, uint16_t channel, std::string_view consumer_tag,
                          uint64_t delivery_tag, bool redelivered, std::string_view exchange,
                          std::string_view routing_key) {
  StackMethodFrame<3 * kShortstrMax + 8 + 1> f(channel, kMethodKey<BasicDeliver>);
  f.shortstr(consumer_tag);
  f.be(delivery_tag, 8);
  f.u8(redelivered ? 1 : 0);
  f.shortstr(exchange);
  f.shortstr(routing_key);
  f.append_to(out);
}

void append_basic_get_ok(std::string& out, uint16_t channel, uint64_t delivery_tag,
                         bool redelivered, std::string_view exchange, std::string_view routing_key,
                         uint32_t message_count) {
  StackMethodFrame<8 + 1 + 2 * kShortstrMax + 4> f(channel, kMethodKey<BasicGetOk>);
  f.be(delivery_tag, 8);
  f.u8(redelivered ? 1 : 0);
  f.shortstr(exchange);
  f.shortstr(routing_key);
  f.be(message_count, 4);
  f.append_to(out);
}

void append_basic_return(std::string& out, uint16_t channel, uint16_t reply_code,
                         std::string_view reply_text, std::string_view exchange,
                         std::string_view routing_key) {
  StackMethodFrame<2 + 3 * kShortstrMax> f(channel, kMethodKey<BasicReturn>);
  f.be(reply_code, 2);
  f.shortstr(reply_text);
  f.shortstr(exchange);
  f.shortstr(routing_key);
  f.append_to(out);
}

namespace {
// ack, nack and reject share one layout: a delivery tag and one octet of bits.
void append_tag_and_bits(std::string& out, uint16_t channel, uint32_t key, uint64_t delivery_tag,
                         uint8_t bits) {
  StackMethodFrame<8 + 1> f(channel, key);
  f.be(delivery_tag, 8);
  f.u8(bits);
  f.append_to(out);
}
}  // namespace

void append_basic_ack(std::string& out, uint16_t channel, uint64_t delivery_tag, bool multiple) {
  append_tag_and_bits(out, channel, kMethodKey<BasicAck>, delivery_tag, multiple ? 1 : 0);
}

void append_basic_nack(std::string& out, uint16_t channel, uint64_t delivery_tag, bool multiple,
                       bool requeue) {
  append_tag_and_bits(out, channel, kMethodKey<BasicNack>, delivery_tag,
                      static_cast<uint8_t>((multiple ? 1 : 0) | (requeue ? 2 : 0)));
}

void append_basic_reject(std::string& out, uint16_t channel, uint64_t delivery_tag, bool requeue) {
  append_tag_and_bits(out, channel, kMethodKey<BasicReject>, delivery_tag, requeue ? 1 : 0);
}

}  // namespace pulse::amqp
