#include "broker/message_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace pulse::broker {
namespace {

void fill(Message& m, size_t body_size) {
  m.exchange = "an-exchange-name-longer-than-sso";
  m.routing_key = "a.routing.key.longer.than.sso";
  m.body.assign(body_size, 'x');
  m.bcc_keys.push_back("bcc");
  amqp::BasicProperties p;
  p.set_delivery_mode(2);
  p.set_priority(5);
  p.set_expiration("60000");
  p.set_message_id("id-1");
  m.set_properties(p);
}

// A recycled message is indistinguishable from a new one, yet keeps its buffers.
TEST(MessagePool, ReusesMessagesAsNew) {
  const Message* first = nullptr;
  const char* body_buffer = nullptr;
  {
    auto m = make_pooled_message();
    fill(*m, 1000);
    first = m.get();
    body_buffer = m->body.data();
  }
  auto again = make_pooled_message();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again->body.data(), body_buffer);  // capacity kept: no allocation for the body
  const Message fresh;
  EXPECT_TRUE(again->exchange.empty());
  EXPECT_TRUE(again->routing_key.empty());
  EXPECT_TRUE(again->body.empty());
  EXPECT_TRUE(again->bcc_keys.empty());
  EXPECT_EQ(again->raw_properties(), fresh.raw_properties());
  EXPECT_FALSE(again->persistent());
  EXPECT_EQ(again->priority(), 0);
  EXPECT_FALSE(again->expiration_ms().has_value());
  EXPECT_FALSE(again->has(amqp::BasicProperties::kMessageId));
  EXPECT_TRUE(again->properties().message_id.empty());
}

TEST(MessagePool, FreesBigBodiesInsteadOfKeepingThem) {
  std::vector<std::shared_ptr<Message>> drained;
  while (pooled_messages() > 0) drained.push_back(make_pooled_message());
  {
    auto m = make_pooled_message();
    fill(*m, kMaxKeptBody + 1);
  }
  EXPECT_EQ(pooled_messages(), 0u);
  {
    auto m = make_pooled_message();
    fill(*m, kMaxKeptBody);
  }
  EXPECT_EQ(pooled_messages(), 1u);
}

TEST(MessagePool, IsBounded) {
  {
    std::vector<std::shared_ptr<Message>> many;
    for (size_t i = 0; i < kMaxCachedMessages + 50; ++i) many.push_back(make_pooled_message());
  }
  EXPECT_EQ(pooled_messages(), kMaxCachedMessages);
}

// Messages cross threads (the last reference may go anywhere): another thread frees them.
TEST(MessagePool, ReleaseOnAnotherThreadFrees) {
  auto m = make_pooled_message();
  fill(*m, 100);
  std::shared_ptr<const Message> shared = std::move(m);
  std::thread([s = std::move(shared)]() mutable { s.reset(); }).join();
  SUCCEED();
}

}  // namespace
}  // namespace pulse::broker
