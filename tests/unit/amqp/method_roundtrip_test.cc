// Every method in the spec round-trips through encode_method/decode_method. The samples come from
// the generated method_samples.h, so a method added to the spec is covered without touching this.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "amqp/frame.h"
#include "amqp/generated/method_samples.h"
#include "test_util.h"

namespace pulse::amqp {
namespace {

using testing::as_span;

const std::vector<Method>& samples() {
  static const std::vector<Method> s = sample_methods();
  return s;
}

TEST(MethodSamples, CoverEveryMethodInTheSpec) {
  std::set<size_t> seen;
  for (const auto& m : samples()) seen.insert(m.index());
  EXPECT_EQ(kMethodCount, std::variant_size_v<Method>);
  EXPECT_EQ(seen.size(), std::variant_size_v<Method>);
}

class MethodRoundTrip : public ::testing::TestWithParam<size_t> {};

TEST_P(MethodRoundTrip, EncodeDecodeEqual) {
  const Method& m = samples()[GetParam()];
  std::string buf;
  ByteWriter w(buf);
  encode_method(w, m);
  auto decoded = decode_method(as_span(buf));
  ASSERT_TRUE(decoded.ok()) << decoded.error().text;
  EXPECT_EQ(decoded->index(), m.index());
  EXPECT_TRUE(*decoded == m) << name_of(m);

  // Re-encoding the decoded value gives the same bytes.
  std::string again;
  ByteWriter w2(again);
  encode_method(w2, *decoded);
  EXPECT_EQ(again, buf);
}

TEST_P(MethodRoundTrip, IdsAndNamesAgree) {
  const Method& m = samples()[GetParam()];
  ASSERT_NE(method_name(class_id_of(m), method_id_of(m)), nullptr);
  EXPECT_STREQ(method_name(class_id_of(m), method_id_of(m)), name_of(m));
}

TEST_P(MethodRoundTrip, EveryTruncationIsRefused) {
  const Method& m = samples()[GetParam()];
  std::string buf;
  ByteWriter w(buf);
  encode_method(w, m);
  for (size_t n = 0; n < buf.size(); ++n) {
    auto decoded = decode_method(as_span(std::string_view(buf).substr(0, n)));
    ASSERT_FALSE(decoded.ok()) << name_of(m) << " accepted a " << n << "-byte prefix";
    EXPECT_EQ(decoded.error().code, kFrameError);
  }
}

TEST_P(MethodRoundTrip, ThroughAMethodFrame) {
  std::string out;
  std::visit([&out](const auto& x) { append_method_frame(out, 7, x); }, samples()[GetParam()]);
  FrameDecode d = decode_frame(as_span(out), 0);
  ASSERT_EQ(d.status, DecodeStatus::kFrame);
  EXPECT_EQ(d.consumed, out.size());
  EXPECT_EQ(d.frame.type, kFrameMethod);
  EXPECT_EQ(d.frame.channel, 7);
  auto decoded = decode_method(d.frame.payload);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(*decoded == samples()[GetParam()]);
}

std::string sample_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string n = name_of(samples()[info.param]);
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n + (info.param % 2 == 0 ? "_rich" : "_sparse");
}

INSTANTIATE_TEST_SUITE_P(AllMethods, MethodRoundTrip, ::testing::Range<size_t>(0, 2 * kMethodCount),
                         sample_name);

TEST(MethodDecode, UnknownMethodIsCommandInvalid) {
  auto r = decode_method(as_span(testing::bytes({0x00, 0x3c, 0x03, 0xe7})));  // basic.999
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kCommandInvalid);
  EXPECT_EQ(r.error().class_id, 60);
  EXPECT_EQ(r.error().method_id, 999);
}

TEST(MethodDecode, TrailingBytesAreRefused) {
  // RabbitMQ's decoder matches the arguments' layout exactly, so trailing bytes are a frame
  // error quoting the arguments (verified against RabbitMQ 3.10 in test_hostile.py).
  auto r = decode_method(as_span(testing::bytes({0x00, 0x14, 0x00, 0x0a, 0x00, 0x00, 0x00})));
  ASSERT_FALSE(r.ok());  // channel.open with its reserved shortstr, plus 2 bytes
  EXPECT_EQ(r.error().code, kFrameError);
  EXPECT_EQ(r.error().text, "FRAME_ERROR - cannot decode <<0,0,0>>");
  EXPECT_EQ(r.error().class_id, 20);
  EXPECT_EQ(r.error().method_id, 10);
}

// --- basic properties -------------------------------------------------------------------------

BasicProperties all_properties() {
  BasicProperties p;
  p.set_content_type("text/plain");
  p.set_content_encoding("gzip");
  p.set_headers(FieldTable{{"h", FieldValue(std::string("v"))}, {"n", FieldValue(int32_t{1})}});
  p.set_delivery_mode(2);
  p.set_priority(5);
  p.set_correlation_id("corr");
  p.set_reply_to("rq");
  p.set_expiration("60000");
  p.set_message_id("mid");
  p.set_timestamp(1700000000);
  p.set_type("t1");
  p.set_user_id("guest");
  p.set_app_id("app");
  p.set_cluster_id("c1");
  return p;
}

TEST(Properties, AllFourteenRoundTrip) {
  BasicProperties p = all_properties();
  EXPECT_EQ(p.flags, 0xfffc);
  std::string buf;
  ByteWriter w(buf);
  encode_properties(w, p);
  ByteReader r(as_span(buf));
  BasicProperties q;
  ASSERT_TRUE(decode_properties(r, q));
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(p, q);
}

TEST(Properties, EachPropertyAloneRoundTrips) {
  const BasicProperties all = all_properties();
  for (int bit = 15; bit >= 2; --bit) {
    BasicProperties p = all;
    p.flags = static_cast<uint16_t>(1u << bit);
    std::string buf;
    ByteWriter w(buf);
    encode_properties(w, p);
    ByteReader r(as_span(buf));
    BasicProperties q;
    ASSERT_TRUE(decode_properties(r, q)) << "bit " << bit;
    EXPECT_TRUE(r.empty()) << "bit " << bit;
    EXPECT_EQ(q.flags, p.flags);
    // Re-encoding the decoded properties gives the same bytes.
    std::string again;
    ByteWriter w2(again);
    encode_properties(w2, q);
    EXPECT_EQ(again, buf) << "bit " << bit;
  }
}

TEST(Properties, EmptyIsJustTheFlags) {
  std::string buf;
  ByteWriter w(buf);
  encode_properties(w, BasicProperties{});
  EXPECT_EQ(buf, testing::bytes({0, 0}));
}

TEST(Properties, ContinuationFlagAndTruncationRefused) {
  BasicProperties q;
  // The reader only views its bytes: they must outlive it.
  const std::string flags = testing::bytes({0x00, 0x01});
  ByteReader cont(as_span(flags));
  EXPECT_FALSE(decode_properties(cont, q));
  std::string buf;
  ByteWriter w(buf);
  encode_properties(w, all_properties());
  for (size_t n = 0; n < buf.size(); ++n) {
    ByteReader r(as_span(std::string_view(buf).substr(0, n)));
    BasicProperties t;
    EXPECT_FALSE(decode_properties(r, t)) << n;
  }
}

}  // namespace
}  // namespace pulse::amqp
