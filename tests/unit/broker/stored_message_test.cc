// The stored form of a message: what a restart or a page-in gets back.
#include "broker/stored_message.h"

#include <gtest/gtest.h>

namespace pulse::broker {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Message sample() {
  Message m;
  m.exchange = "x";
  m.routing_key = "a.b";
  m.body = std::string("\0body\xff", 6);
  amqp::BasicProperties p;
  p.set_delivery_mode(2);
  p.set_priority(7);
  p.set_content_type("text/plain");
  amqp::FieldTable h;
  h.emplace_back("n", int64_t{42});
  p.set_headers(h);
  m.bcc_keys = {"k1", "k2"};
  m.set_properties(std::move(p));
  return m;
}

TEST(StoredMessage, RoundTripKeepsEverything) {
  Message m = sample();
  std::string buf;
  auto at = Clock::now() + std::chrono::seconds(30);
  encode_stored_message(buf, m, at, true);
  auto h = peek_stored_message(bytes(buf));
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->keep);
  EXPECT_EQ(h->priority, 7);
  EXPECT_EQ(h->body_bytes, 6u);
  auto d = decode_stored_message(bytes(buf));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg->exchange, "x");
  EXPECT_EQ(d->msg->routing_key, "a.b");
  EXPECT_EQ(d->msg->body, m.body);
  EXPECT_EQ(d->msg->raw_properties(), m.raw_properties());
  EXPECT_EQ(d->msg->properties(), m.properties());
  EXPECT_TRUE(d->msg->persistent());
  EXPECT_EQ(d->msg->priority(), 7);
  EXPECT_EQ(d->msg->bcc_keys, m.bcc_keys);
  ASSERT_TRUE(d->expires_at);
  // Deadlines go through the wall clock: equal to within a few milliseconds.
  EXPECT_LT(std::chrono::abs(*d->expires_at - at), std::chrono::milliseconds(20));
}

TEST(StoredMessage, NoDeadlineAndNeverExpiring) {
  Message m = sample();
  std::string a, b;
  encode_stored_message(a, m, std::nullopt, false);
  encode_stored_message(b, m, TimePoint::max(), false);
  auto da = decode_stored_message(bytes(a));
  auto db = decode_stored_message(bytes(b));
  ASSERT_TRUE(da && db);
  EXPECT_FALSE(da->expires_at);
  EXPECT_EQ(db->expires_at, TimePoint::max());
  EXPECT_FALSE(peek_stored_message(bytes(a))->keep);
}

TEST(StoredMessage, DamagedBytesAreRefusedNotCrashed) {
  Message m = sample();
  std::string buf;
  encode_stored_message(buf, m, std::nullopt, true);
  for (size_t cut = 0; cut < buf.size(); ++cut)
    EXPECT_FALSE(decode_stored_message(bytes(buf.substr(0, cut)))) << cut;
  std::string wrong = buf;
  wrong[0] = 9;  // unknown format
  EXPECT_FALSE(peek_stored_message(bytes(wrong)));
  EXPECT_FALSE(decode_stored_message(bytes(wrong)));
  std::string longer = buf + "x";  // body length no longer matches
  EXPECT_FALSE(decode_stored_message(bytes(longer)));
}

}  // namespace
}  // namespace pulse::broker
