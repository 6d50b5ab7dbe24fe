// Sans-IO frame decoder and the frame writers.
#include <gtest/gtest.h>

#include <string>

#include "amqp/frame.h"
#include "test_util.h"

namespace pulse::amqp {
namespace {

using testing::as_span;
using testing::bytes;
using testing::hex;

std::string sample_frame() {
  BasicPublish m;
  m.exchange = "ex";
  m.routing_key = "rk";
  std::string out;
  append_method_frame(out, 3, m);
  return out;
}

TEST(DecodeFrame, NeedsMoreOnEveryPrefix) {
  const std::string f = sample_frame();
  for (size_t n = 0; n < f.size(); ++n) {
    FrameDecode d = decode_frame(as_span(std::string_view(f).substr(0, n)), 131072);
    EXPECT_EQ(d.status, DecodeStatus::kNeedMore) << "prefix " << n;
    EXPECT_EQ(d.consumed, 0u);
  }
  FrameDecode d = decode_frame(as_span(f), 131072);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  EXPECT_EQ(d.consumed, f.size());
  EXPECT_EQ(d.frame.type, kFrameMethod);
  EXPECT_EQ(d.frame.channel, 3);
  EXPECT_EQ(d.frame.payload.size(), f.size() - kFrameOverhead);
}

TEST(DecodeFrame, ConsumesOneFrameAtATime) {
  const std::string two = sample_frame() + sample_frame();
  FrameDecode d = decode_frame(as_span(two), 0);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  EXPECT_EQ(d.consumed, two.size() / 2);
  d = decode_frame(as_span(std::string_view(two).substr(d.consumed)), 0);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  EXPECT_EQ(d.consumed, two.size() / 2);
}

TEST(DecodeFrame, BadFrameEndIsFrameError) {
  for (uint8_t end : {0x00, 0xcd, 0xcf, 0xff}) {
    std::string f = sample_frame();
    f.back() = static_cast<char>(end);
    FrameDecode d = decode_frame(as_span(f), 131072);
    EXPECT_EQ(d.status, DecodeStatus::kError);
    EXPECT_EQ(d.error.code, kFrameError);
    EXPECT_EQ(d.consumed, 0u);
  }
}

std::string body_frame(uint32_t payload) {
  std::string f;
  ByteWriter w(f);
  w.u8(kFrameBody);
  w.u16(1);
  w.u32(payload);
  w.bytes(std::string(payload, 'x'));
  w.u8(kFrameEnd);
  return f;
}

TEST(DecodeFrame, FrameMaxCountsTheWholeFrame) {
  const uint32_t frame_max = 4096;
  const std::string fits = body_frame(frame_max - kFrameOverhead);
  EXPECT_EQ(decode_frame(as_span(fits), frame_max).status, DecodeStatus::kFrame);
  const std::string over = body_frame(frame_max - kFrameOverhead + 1);
  FrameDecode d = decode_frame(as_span(over), frame_max);
  EXPECT_EQ(d.status, DecodeStatus::kError);
  EXPECT_EQ(d.error.code, kFrameError);
  // Oversize is reported from the 7-byte header alone, before buffering the payload.
  d = decode_frame(as_span(std::string_view(over).substr(0, 7)), frame_max);
  EXPECT_EQ(d.status, DecodeStatus::kError);
  // frame_max 0 means no limit.
  EXPECT_EQ(decode_frame(as_span(over), 0).status, DecodeStatus::kFrame);
}

TEST(DecodeFrame, HugeDeclaredSizeNeverOverflows) {
  const std::string hdr = bytes({kFrameBody, 0, 1, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(decode_frame(as_span(hdr), 0).status, DecodeStatus::kNeedMore);
  FrameDecode d = decode_frame(as_span(hdr), 131072);
  EXPECT_EQ(d.status, DecodeStatus::kError);
  EXPECT_EQ(d.error.code, kFrameError);
}

TEST(Heartbeat, WireFormatAndDecode) {
  std::string out;
  append_heartbeat(out);
  EXPECT_EQ(hex(out), hex(bytes({0x08, 0, 0, 0, 0, 0, 0, 0xce})));
  FrameDecode d = decode_frame(as_span(out), 4096);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  EXPECT_EQ(d.frame.type, kFrameHeartbeat);
  EXPECT_EQ(d.frame.channel, 0);
  EXPECT_TRUE(d.frame.payload.empty());
  EXPECT_EQ(d.consumed, 8u);
}

// Decodes header + body frames written by append_content and checks every frame against
// frame_max and the reassembled body against the original.
void check_content(size_t body_size, uint32_t frame_max, size_t expected_body_frames) {
  std::string body(body_size, '\0');
  for (size_t i = 0; i < body_size; ++i) body[i] = static_cast<char>(i * 31 + 7);
  BasicProperties p;
  p.set_content_type("application/octet-stream");
  std::string out;
  append_content(out, 9, p, body, frame_max);
  // The raw-properties writer (the delivery path) frames exactly as the generic one.
  std::string raw;
  ByteWriter w(raw);
  encode_properties(w, p);
  std::string via_raw = "prefix";
  append_content(via_raw, 9, raw, body, frame_max);
  EXPECT_TRUE(via_raw == "prefix" + out) << body_size << " " << frame_max;

  std::string_view rest = out;
  FrameDecode d = decode_frame(as_span(rest), frame_max);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  ASSERT_EQ(d.frame.type, kFrameHeader);
  ContentHeader h;
  ASSERT_TRUE(decode_content_header(d.frame.payload, h));
  EXPECT_EQ(h.body_size, body_size);
  EXPECT_EQ(h.properties, p);
  rest.remove_prefix(d.consumed);

  std::string got;
  size_t frames = 0;
  while (!rest.empty()) {
    d = decode_frame(as_span(rest), frame_max);
    ASSERT_EQ(d.status, DecodeStatus::kFrame) << d.error.text;
    EXPECT_EQ(d.frame.type, kFrameBody);
    EXPECT_EQ(d.frame.channel, 9);
    EXPECT_FALSE(d.frame.payload.empty());
    if (frame_max != 0) {
      EXPECT_LE(d.consumed, frame_max);
    }
    got.append(reinterpret_cast<const char*>(d.frame.payload.data()), d.frame.payload.size());
    rest.remove_prefix(d.consumed);
    ++frames;
  }
  EXPECT_EQ(frames, expected_body_frames);
  EXPECT_EQ(got, body);
}

TEST(AppendContent, SplitsBodyByFrameMax) {
  const size_t chunk = 4096 - kFrameOverhead;
  check_content(0, 4096, 0);
  check_content(1, 4096, 1);
  check_content(chunk, 4096, 1);
  check_content(chunk + 1, 4096, 2);
  check_content(10 * chunk, 4096, 10);
  check_content(100000, 131072, 1);
  check_content(100000, 0, 1);  // no limit: one body frame
  check_content(0, 0, 0);
}

TEST(AppendContent, RawPropertiesAreForwardedUnchanged) {
  BasicProperties p;
  p.set_headers(FieldTable{{"a", FieldValue(int8_t{-1})}});
  p.set_priority(3);
  std::string first;
  append_content(first, 1, p, "body", 4096);
  FrameDecode d = decode_frame(as_span(first), 4096);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  ContentHeader h;
  ASSERT_TRUE(decode_content_header(d.frame.payload, h));
  std::string second;
  append_content(second, 1, h.raw_properties, "body", 4096);
  EXPECT_EQ(hex(second), hex(first));
}

TEST(ContentHeader, TruncatedOrTrailingBytesRefused) {
  BasicProperties p;
  p.set_message_id("m");
  std::string out;
  append_content(out, 1, p, "", 4096);
  FrameDecode d = decode_frame(as_span(out), 4096);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  std::string payload(reinterpret_cast<const char*>(d.frame.payload.data()),
                      d.frame.payload.size());
  for (size_t n = 0; n < payload.size(); ++n) {
    ContentHeader h;
    EXPECT_FALSE(decode_content_header(as_span(std::string_view(payload).substr(0, n)), h)) << n;
  }
  ContentHeader h;
  EXPECT_FALSE(decode_content_header(as_span(payload + "x"), h));
}

}  // namespace
}  // namespace pulse::amqp
