// The fast basic-class encoders and peeks (amqp/basic_frames.h) against the generic generated
// codec: each fast encoder must write exactly the bytes append_method_frame() writes for the same
// method struct, and what it writes must decode with decode_method() to those values.
#include "amqp/basic_frames.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "amqp/frame.h"
#include "amqp/generated/method_samples.h"
#include "test_util.h"

namespace pulse::amqp {
namespace {

using testing::as_span;
using testing::hex;

// Short strings at the edges: empty, one byte, binary bytes, exactly 255, and past 255 (both
// encoders clamp to 255 rather than emit a corrupt frame).
std::vector<std::string> edge_strings() {
  return {"",
          "x",
          std::string("\x00\xff\x01", 3),
          "amq.direct",
          std::string(255, 'a'),
          std::string(256, 'b'),
          std::string(1000, 'c')};
}

std::string clamp(const std::string& s) {
  return s.substr(0, 255);
}

// The generic encoding of m on `channel`, after a prefix (fast encoders append, never overwrite).
template <typename M>
std::string generic(uint16_t channel, const M& m) {
  std::string out = "prefix";
  append_method_frame(out, channel, m);
  return out;
}

// Decodes one whole method frame with the generic decoder and returns it as M.
template <typename M>
M decode_whole(std::string_view frame, uint16_t channel) {
  FrameDecode d = decode_frame(as_span(frame), 0);
  EXPECT_EQ(d.status, DecodeStatus::kFrame);
  EXPECT_EQ(d.consumed, frame.size());
  EXPECT_EQ(d.frame.type, kFrameMethod);
  EXPECT_EQ(d.frame.channel, channel);
  auto m = decode_method(d.frame.payload);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().text);
  if (!m.ok() || !std::holds_alternative<M>(*m)) {
    ADD_FAILURE() << "decoded as " << (m.ok() ? name_of(*m) : "nothing");
    return M{};
  }
  return std::get<M>(*m);
}

constexpr uint16_t kChannels[] = {0, 1, 0x1234, 0xFFFF};
constexpr uint64_t kTags[] = {0, 1, 0x0102030405060708ull, ~0ull};

TEST(BasicFrames, PublishMatchesGenericEncoder) {
  for (const std::string& ex : edge_strings()) {
    for (const std::string& rk : edge_strings()) {
      for (int bits = 0; bits < 4; ++bits) {
        const uint16_t ch = kChannels[(ex.size() + rk.size() + bits) % 4];
        BasicPublish m;
        m.exchange = ex;
        m.routing_key = rk;
        m.mandatory = bits & 1;
        m.immediate = bits & 2;
        std::string fast = "prefix";
        append_basic_publish(fast, ch, ex, rk, m.mandatory, m.immediate);
        ASSERT_EQ(hex(fast), hex(generic(ch, m))) << ex.size() << " " << rk.size() << " " << bits;
        BasicPublish got = decode_whole<BasicPublish>(std::string_view(fast).substr(6), ch);
        m.exchange = clamp(ex);
        m.routing_key = clamp(rk);
        EXPECT_EQ(got, m);
      }
    }
  }
}

TEST(BasicFrames, DeliverMatchesGenericEncoder) {
  for (const std::string& tag : edge_strings()) {
    for (const std::string& ex : edge_strings()) {
      for (uint64_t dtag : kTags) {
        for (bool redelivered : {false, true}) {
          const uint16_t ch = kChannels[(tag.size() + dtag) % 4];
          BasicDeliver m;
          m.consumer_tag = tag;
          m.delivery_tag = dtag;
          m.redelivered = redelivered;
          m.exchange = ex;
          m.routing_key = ex + tag;
          std::string fast = "prefix";
          append_basic_deliver(fast, ch, tag, dtag, redelivered, ex, m.routing_key);
          ASSERT_EQ(hex(fast), hex(generic(ch, m))) << tag.size() << " " << ex.size();
          BasicDeliver got = decode_whole<BasicDeliver>(std::string_view(fast).substr(6), ch);
          m.consumer_tag = clamp(tag);
          m.exchange = clamp(ex);
          m.routing_key = clamp(m.routing_key);
          EXPECT_EQ(got, m);
        }
      }
    }
  }
}

TEST(BasicFrames, GetOkMatchesGenericEncoder) {
  for (const std::string& ex : edge_strings()) {
    for (uint64_t dtag : kTags) {
      for (uint32_t count : {0u, 1u, 0xFFFFFFFFu}) {
        const uint16_t ch = kChannels[(ex.size() + count) % 4];
        BasicGetOk m;
        m.delivery_tag = dtag;
        m.redelivered = (dtag & 1) != 0;
        m.exchange = ex;
        m.routing_key = "rk" + ex;
        m.message_count = count;
        std::string fast = "prefix";
        append_basic_get_ok(fast, ch, dtag, m.redelivered, ex, m.routing_key, count);
        ASSERT_EQ(hex(fast), hex(generic(ch, m))) << ex.size();
        BasicGetOk got = decode_whole<BasicGetOk>(std::string_view(fast).substr(6), ch);
        m.exchange = clamp(ex);
        m.routing_key = clamp(m.routing_key);
        EXPECT_EQ(got, m);
      }
    }
  }
}

TEST(BasicFrames, ReturnMatchesGenericEncoder) {
  for (const std::string& text : edge_strings()) {
    for (const std::string& ex : edge_strings()) {
      for (uint16_t code : {uint16_t{0}, uint16_t{kNoRoute}, uint16_t{0xFFFF}}) {
        const uint16_t ch = kChannels[(text.size() + code) % 4];
        BasicReturn m;
        m.reply_code = code;
        m.reply_text = text;
        m.exchange = ex;
        m.routing_key = text + ex;
        std::string fast = "prefix";
        append_basic_return(fast, ch, code, text, ex, m.routing_key);
        ASSERT_EQ(hex(fast), hex(generic(ch, m))) << text.size() << " " << ex.size();
        BasicReturn got = decode_whole<BasicReturn>(std::string_view(fast).substr(6), ch);
        m.reply_text = clamp(text);
        m.exchange = clamp(ex);
        m.routing_key = clamp(m.routing_key);
        EXPECT_EQ(got, m);
      }
    }
  }
}

TEST(BasicFrames, AckNackRejectMatchGenericEncoder) {
  for (uint16_t ch : kChannels) {
    for (uint64_t tag : kTags) {
      for (int bits = 0; bits < 4; ++bits) {
        const bool a = bits & 1, b = bits & 2;
        BasicAck ack;
        ack.delivery_tag = tag;
        ack.multiple = a;
        std::string fast = "prefix";
        append_basic_ack(fast, ch, tag, a);
        ASSERT_EQ(hex(fast), hex(generic(ch, ack)));
        EXPECT_EQ(decode_whole<BasicAck>(std::string_view(fast).substr(6), ch), ack);

        BasicNack nack;
        nack.delivery_tag = tag;
        nack.multiple = a;
        nack.requeue = b;
        fast = "prefix";
        append_basic_nack(fast, ch, tag, a, b);
        ASSERT_EQ(hex(fast), hex(generic(ch, nack)));
        EXPECT_EQ(decode_whole<BasicNack>(std::string_view(fast).substr(6), ch), nack);

        BasicReject reject;
        reject.delivery_tag = tag;
        reject.requeue = b;
        fast = "prefix";
        append_basic_reject(fast, ch, tag, b);
        ASSERT_EQ(hex(fast), hex(generic(ch, reject)));
        EXPECT_EQ(decode_whole<BasicReject>(std::string_view(fast).substr(6), ch), reject);
      }
    }
  }
}

// The peeks agree with the generic decoder on every method of the spec.
TEST(MethodPeek, KeyOfEveryMethodIsItsClassAndMethodId) {
  for (const Method& m : sample_methods()) {
    std::string payload;
    ByteWriter w(payload);
    encode_method(w, m);
    const uint32_t key = method_key_of(as_span(payload));
    EXPECT_EQ(key, method_key(class_id_of(m), method_id_of(m))) << name_of(m);
    EXPECT_NE(key, 0u);
    EXPECT_EQ(is_method<BasicPublish>(as_span(payload)), std::holds_alternative<BasicPublish>(m))
        << name_of(m);
    EXPECT_EQ(is_method<BasicDeliver>(as_span(payload)), std::holds_alternative<BasicDeliver>(m))
        << name_of(m);
  }
  EXPECT_EQ(kMethodKey<BasicPublish>, 0x003C0028u);
  for (size_t n = 0; n < 4; ++n) {
    const std::string prefix("\x00\x3C\x00\x28", n);
    EXPECT_EQ(method_key_of(as_span(prefix)), 0u) << n;
    EXPECT_FALSE(is_method<BasicPublish>(as_span(prefix))) << n;
  }
}

// decode_method_args accepts exactly what decode_method accepts for that method, yields the same
// values, and overwrites (not appends to) what a reused struct held before.
template <typename M>
void check_in_place_decoder() {
  for (const Method& sample : sample_methods()) {
    if (!std::holds_alternative<M>(sample)) continue;
    std::string payload;
    ByteWriter w(payload);
    encode_method(w, sample);
    for (size_t n = 0; n <= payload.size() + 1; ++n) {
      std::string p = n <= payload.size() ? payload.substr(0, n) : payload + "x";
      auto generic = decode_method(as_span(p));
      M fast;
      if constexpr (requires { fast.exchange; }) {
        fast.exchange = std::string(300, 'z');
      }
      const bool ok = decode_method_args(as_span(p), fast);
      ASSERT_EQ(ok, generic.ok()) << M::kName << " length " << p.size();
      if (ok) {
        EXPECT_TRUE(Method(fast) == *generic) << M::kName;
      }
    }
  }
}

TEST(MethodPeek, InPlaceDecodersAgreeWithGenericDecoder) {
  check_in_place_decoder<BasicPublish>();
  check_in_place_decoder<BasicDeliver>();
  check_in_place_decoder<BasicAck>();
  check_in_place_decoder<BasicNack>();
}

TEST(FrameScan, PayloadSizeFromHeaderMatchesDecoder) {
  std::string stream;
  append_basic_deliver(stream, 3, "ctag", 9, false, "ex", std::string(255, 'r'));
  append_content(stream, 3, std::string_view("\x00\x00", 2), std::string(70000, 'b'), 0);
  std::string_view rest = stream;
  while (!rest.empty()) {
    FrameDecode d = decode_frame(as_span(rest), 0);
    ASSERT_EQ(d.status, DecodeStatus::kFrame);
    EXPECT_EQ(frame_payload_size(reinterpret_cast<const uint8_t*>(rest.data())),
              d.frame.payload.size());
    EXPECT_EQ(d.consumed, d.frame.payload.size() + kFrameOverhead);
    rest.remove_prefix(d.consumed);
  }
}

// The gathering content writer puts the same bytes on the wire as the copying one, whatever the
// frame_max split, whether its payloads are copied or kept aside.
TEST(ContentFrames, GatheredEqualsCopied) {
  const std::string raw("\x90\x00\x0atext/plain\x02", 14);  // content-type, delivery-mode
  for (size_t size : {size_t{0}, size_t{1}, size_t{4087}, size_t{4088}, size_t{4089},
                      size_t{3 * 4088}, size_t{100000}}) {
    for (uint32_t frame_max : {0u, 8u, 9u, 4096u, 131072u}) {
      std::string body(size, '\0');
      for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>(i * 13 + 1);
      std::string copied = "prefix";
      append_content(copied, 5, raw, body, frame_max);

      std::string gathered = "prefix";
      std::vector<std::pair<size_t, std::string_view>> kept;  // (offset in gathered, payload)
      append_content_gathered(gathered, 5, raw, body, frame_max, [&](std::string_view piece) {
        kept.emplace_back(gathered.size(), piece);
      });
      for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
        gathered.insert(it->first, it->second);
      }
      ASSERT_EQ(hex(gathered), hex(copied)) << size << " " << frame_max;
      // Zero-length bodies send the header only; others one frame per chunk, none empty.
      const size_t chunk = body_frame_payload(frame_max, size);
      EXPECT_EQ(kept.size(), (size + chunk - 1) / chunk) << size << " " << frame_max;
      for (const auto& k : kept) EXPECT_FALSE(k.second.empty());
    }
  }
}

}  // namespace
}  // namespace pulse::amqp
