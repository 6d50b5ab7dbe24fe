// Messages keep the publisher's property bytes and decode them only on demand.
#include <gtest/gtest.h>

#include "amqp/properties_scan.h"
#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

std::string encode(const amqp::BasicProperties& p) {
  std::string out;
  ByteWriter w(out);
  amqp::encode_properties(w, p);
  return out;
}

amqp::BasicProperties full() {
  amqp::BasicProperties p;
  p.set_content_type("text/plain");
  p.set_content_encoding("gzip");
  p.set_delivery_mode(2);
  p.set_priority(9);
  p.set_correlation_id("c");
  p.set_reply_to("r");
  p.set_expiration("1500");
  p.set_message_id("m");
  p.set_timestamp(7);
  p.set_type("t");
  p.set_user_id("u");
  p.set_app_id("a");
  p.set_cluster_id("cl");
  return p;
}

TEST(Message, RawPropertiesAreKeptByteForByteAndSummarised) {
  const std::string raw = encode(full());
  Message m;
  ASSERT_TRUE(m.set_raw_properties(raw));
  EXPECT_EQ(m.raw_properties(), raw);
  EXPECT_TRUE(m.persistent());
  EXPECT_EQ(m.priority(), 9);
  EXPECT_EQ(m.expiration_ms(), 1500);
  EXPECT_TRUE(m.has(amqp::BasicProperties::kUserId));
  EXPECT_FALSE(m.has(amqp::BasicProperties::kHeaders));
  EXPECT_EQ(m.properties(), full());
  // A copy (dead lettering starts from one) keeps the summary and the decoded form.
  Message copy = m;
  EXPECT_EQ(copy.raw_properties(), raw);
  EXPECT_EQ(copy.properties(), full());
  EXPECT_EQ(copy.expiration_ms(), 1500);
}

TEST(Message, NoPropertiesAndInvalidExpiration) {
  Message m;
  EXPECT_EQ(m.raw_properties(), std::string("\0\0", 2));
  EXPECT_FALSE(m.persistent());
  EXPECT_EQ(m.priority(), 0);
  EXPECT_EQ(m.expiration_ms(), std::nullopt);
  amqp::BasicProperties p;
  p.set_delivery_mode(1);
  p.set_expiration("soon");
  ASSERT_TRUE(m.set_raw_properties(encode(p)));
  EXPECT_FALSE(m.persistent());
  EXPECT_EQ(m.expiration_ms(), std::nullopt);
  EXPECT_EQ(m.properties().expiration, "soon");
}

TEST(Message, SetPropertiesReencodes) {
  Message m;
  amqp::BasicProperties p = full();
  amqp::FieldTable h;
  h.emplace_back("k", std::string("v"));
  p.set_headers(h);
  m.set_properties(p);
  EXPECT_EQ(m.raw_properties(), encode(p));
  EXPECT_EQ(decode_raw(m), p);
  EXPECT_TRUE(m.has(amqp::BasicProperties::kHeaders));
  EXPECT_EQ(m.priority(), 9);
}

TEST(Message, MalformedPropertiesAreRefusedAndLeaveTheMessageAlone) {
  Message m;
  amqp::BasicProperties good;
  good.set_priority(3);
  ASSERT_TRUE(m.set_raw_properties(encode(good)));
  std::string raw = encode(full());
  EXPECT_FALSE(m.set_raw_properties(std::string_view(raw).substr(0, raw.size() - 1)));
  EXPECT_FALSE(m.set_raw_properties(raw + "x"));                   // trailing bytes
  EXPECT_FALSE(m.set_raw_properties(std::string("\x00\x01", 2)));  // continuation flag
  EXPECT_FALSE(m.set_raw_properties(std::string("\x00", 1)));
  // A header table whose length fits but whose content does not decode.
  std::string bad_table("\x20\x00\x00\x00\x00\x03\x01k?", 9);
  EXPECT_FALSE(m.set_raw_properties(bad_table));
  EXPECT_EQ(m.priority(), 3);
  EXPECT_EQ(m.raw_properties(), encode(good));
}

TEST(PropertiesScan, PicksTheHotFields) {
  const std::string raw = encode(full());
  amqp::PropertiesScan s;
  ASSERT_TRUE(amqp::scan_properties(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()), s));
  EXPECT_EQ(s.flags, full().flags);
  EXPECT_EQ(s.delivery_mode, 2);
  EXPECT_EQ(s.priority, 9);
  EXPECT_EQ(s.expiration, "1500");
}

// Differential check against the full decoder: mutations of valid encodings (without header
// tables, which the scan only skips) are accepted by both or by neither, with equal fields.
TEST(PropertiesScan, AgreesWithTheFullDecoder) {
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  const std::string base = encode(full());
  for (int i = 0; i < 20000; ++i) {
    std::string raw = base;
    switch (next() % 4) {
      case 0:
        raw.resize(next() % (raw.size() + 1));
        break;
      case 1:
        raw[next() % raw.size()] = static_cast<char>(next());
        break;
      case 2:
        raw.push_back(static_cast<char>(next()));
        break;
      default:
        raw[0] = static_cast<char>(next() & 0xDF);  // random flags, never the headers bit
        raw[1] = static_cast<char>(next());
        break;
    }
    if (raw.size() >= 1 && (static_cast<uint8_t>(raw[0]) & 0x20)) continue;
    const auto bytes =
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    amqp::PropertiesScan s;
    const bool scanned = amqp::scan_properties(bytes, s);
    amqp::BasicProperties p;
    ByteReader r(bytes);
    const bool decoded = amqp::decode_properties(r, p) && r.empty();
    ASSERT_EQ(scanned, decoded) << i;
    if (!decoded) continue;
    EXPECT_EQ(s.flags, p.flags);
    if (p.has(amqp::BasicProperties::kDeliveryMode)) {
      EXPECT_EQ(s.delivery_mode, p.delivery_mode);
    }
    if (p.has(amqp::BasicProperties::kPriority)) {
      EXPECT_EQ(s.priority, p.priority);
    }
    EXPECT_EQ(s.expiration, p.has(amqp::BasicProperties::kExpiration) ? p.expiration : "");
  }
}

}  // namespace
}  // namespace pulse::broker::testing
