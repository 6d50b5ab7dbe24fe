// Consumers (tags, cancel), mandatory returns, publisher confirms and the reach of a channel
// error, as a client sees them (channel_basic.cc and channel_confirm_tx.cc against
// tests/integration/test_basic_consume.py, test_basic_publish.py and test_confirm_tx.py).
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "server_fixture.h"

namespace pulse::server::testing {
namespace {

using ChannelConsume = ServerTest;
using ChannelPublish = ServerTest;
using ChannelErrors = ServerTest;

TEST_F(ChannelConsume, ServerGeneratesTagsAndCancelRemovesTheConsumer) {
  const auto q = temp_queue(*ch);
  auto tag = ch->consume(q, ignore_delivery);
  ASSERT_TRUE(tag.ok()) << tag.error().text;
  EXPECT_TRUE(std::regex_match(*tag, std::regex("amq\\.ctag-[A-Za-z0-9_\\-]{22}"))) << *tag;
  EXPECT_EQ(consumers(*ch, q), 1u);
  auto other = ch->consume(q, ignore_delivery);
  ASSERT_TRUE(other.ok()) << other.error().text;
  EXPECT_NE(*other, *tag);
  EXPECT_EQ(consumers(*ch, q), 2u);
  ASSERT_TRUE(ch->cancel(*tag));
  EXPECT_EQ(consumers(*ch, q), 1u);
}

TEST_F(ChannelConsume, ReusingATagIsAConnectionError) {
  const auto q = temp_queue(*ch);
  client::ConsumeOptions o;
  o.consumer_tag = "mytag";
  auto first = ch->consume(q, ignore_delivery, o);
  ASSERT_TRUE(first.ok()) << first.error().text;
  EXPECT_EQ(*first, "mytag");
  EXPECT_TRUE(failed_with(ch->consume(q, ignore_delivery, o), 530,
                          "NOT_ALLOWED - attempt to reuse consumer tag 'mytag'"));
  EXPECT_FALSE(conn->is_open());  // RabbitMQ closes the connection, not the channel
  ASSERT_NE(conn->error(), nullptr);
  EXPECT_EQ(conn->error()->class_id, 60);  // basic.consume
  EXPECT_EQ(conn->error()->method_id, 20);
}

TEST_F(ChannelConsume, SameTagOnAnotherChannelIsAllowed) {
  const auto q = temp_queue(*ch);
  client::ConsumeOptions o;
  o.consumer_tag = "mytag";
  ASSERT_TRUE(ch->consume(q, ignore_delivery, o).ok());
  Channel* second = open_channel(*conn);
  ASSERT_NE(second, nullptr);
  auto again = second->consume(q, ignore_delivery, o);
  ASSERT_TRUE(again.ok()) << again.error().text;
  EXPECT_EQ(consumers(*ch, q), 2u);
}

TEST_F(ChannelConsume, MissingQueue) {
  EXPECT_TRUE(failed_with(ch->consume("no.such.queue", ignore_delivery), 404,
                          "NOT_FOUND - no queue 'no.such.queue' in vhost '/'"));
  EXPECT_TRUE(conn->is_open());
}

TEST_F(ChannelConsume, CancelOfAnUnknownTagIsOk) {
  ASSERT_TRUE(ch->cancel("no-such-tag"));
  EXPECT_TRUE(ch->qos(1));  // the channel stays open
}

TEST_F(ChannelConsume, CancelStopsDeliveriesButItsUnackedCanStillBeAcked) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 4);
  ASSERT_TRUE(ch->qos(2));
  std::vector<uint64_t> tags;
  auto tag = ch->consume(q, [&](const client::Delivery& d) { tags.push_back(d.delivery_tag); });
  ASSERT_TRUE(tag.ok()) << tag.error().text;
  ASSERT_TRUE(pump_until(*conn, [&] { return tags.size() >= 2; }));
  ASSERT_TRUE(ch->cancel(*tag));
  // Acks after the cancel still settle; nothing more is delivered.
  ASSERT_TRUE(ch->ack(tags.back(), /*multiple=*/true));
  settle(*conn);
  EXPECT_EQ(tags.size(), 2u);
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"2", "3"}));
}

TEST_F(ChannelPublish, MandatoryUnroutableIsReturned) {
  std::vector<std::pair<uint16_t, std::string>> returns;
  std::string exchange, body, message_id;
  ch->on_return([&](const client::Returned& r) {
    returns.emplace_back(r.reply_code, std::string(r.reply_text));
    exchange = r.exchange;
    body = r.body;
    if (r.properties) message_id = r.properties->message_id;
  });
  amqp::BasicProperties props;
  props.set_message_id("m1");
  ASSERT_TRUE(ch->publish("amq.direct", "nobody", "lost", props, /*mandatory=*/true).ok());
  ASSERT_TRUE(pump_until(*conn, [&] { return !returns.empty(); }));
  EXPECT_EQ(returns, (std::vector<std::pair<uint16_t, std::string>>{{312, "NO_ROUTE"}}));
  EXPECT_EQ(exchange, "amq.direct");
  EXPECT_EQ(body, "lost");
  EXPECT_EQ(message_id, "m1");
}

TEST_F(ChannelPublish, UnroutableWithoutMandatoryIsDroppedAndConfirmed) {
  std::vector<int> returns;
  ch->on_return([&](const client::Returned& r) { returns.push_back(r.reply_code); });
  ASSERT_TRUE(ch->confirm_select());
  std::vector<std::pair<uint64_t, bool>> confirms;
  ch->on_confirm([&](uint64_t, uint64_t last, bool ack) { confirms.emplace_back(last, ack); });
  ASSERT_TRUE(ch->publish("", "no.queue.yet", "x").ok());
  ASSERT_TRUE(ch->wait_for_confirms());
  settle(*conn);
  EXPECT_EQ(confirms, (std::vector<std::pair<uint64_t, bool>>{{1, true}}));
  EXPECT_TRUE(returns.empty());
  // Dropped, not kept for a queue of that name declared later.
  client::QueueOptions o;
  o.exclusive = true;
  ASSERT_TRUE(ch->queue_declare("no.queue.yet", o).ok());
  EXPECT_EQ(ready(*ch, "no.queue.yet"), 0u);
}

TEST_F(ChannelPublish, ConfirmsSettleEveryPublishInOrderWithMultipleAcks) {
  const auto q = temp_queue(*ch);
  ASSERT_TRUE(ch->confirm_select());
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  ch->on_confirm([&](uint64_t first, uint64_t last, bool ack) {
    EXPECT_TRUE(ack);
    runs.emplace_back(first, last);
  });
  constexpr uint64_t kN = 50;
  for (uint64_t i = 1; i <= kN; ++i) {
    auto seq = ch->publish("", q, "m");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, i);
  }
  ASSERT_TRUE(ch->wait_for_confirms());
  ASSERT_FALSE(runs.empty());
  uint64_t next = 1;
  for (const auto& [first, last] : runs) {
    EXPECT_EQ(first, next);
    next = last + 1;
  }
  EXPECT_EQ(next, kN + 1);
  // One write of 50 publishes is one input batch: its confirms are coalesced.
  EXPECT_LT(runs.size(), kN);
  EXPECT_EQ(ready(*ch, q), kN);
}

TEST_F(ChannelPublish, RejectPublishOverflowIsNacked) {
  client::QueueOptions o;
  o.exclusive = true;
  amqp::set(o.arguments, "x-max-length", int32_t{0});
  amqp::set(o.arguments, "x-overflow", "reject-publish");
  auto q = ch->queue_declare("", o);
  ASSERT_TRUE(q.ok()) << q.error().text;
  ASSERT_TRUE(ch->confirm_select());
  std::vector<std::pair<uint64_t, bool>> confirms;
  ch->on_confirm([&](uint64_t, uint64_t last, bool ack) { confirms.emplace_back(last, ack); });
  ASSERT_TRUE(ch->publish("", q->name, "x").ok());
  ASSERT_TRUE(ch->wait_for_confirms());
  EXPECT_EQ(confirms, (std::vector<std::pair<uint64_t, bool>>{{1, false}}));
}

TEST_F(ChannelErrors, AChannelErrorClosesOnlyThatChannel) {
  Channel* bystander = open_channel(*conn);
  ASSERT_NE(bystander, nullptr);
  const auto q = temp_queue(*bystander);
  EXPECT_EQ(server_channels(), 2u);
  EXPECT_TRUE(failed_with(ch->queue_purge("no.such.queue"), 404,
                          "NOT_FOUND - no queue 'no.such.queue' in vhost '/'"));
  EXPECT_FALSE(ch->is_open());
  // Every later call on the closed channel reports the same error without a round trip.
  EXPECT_TRUE(failed_with(ch->qos(1), 404, "NOT_FOUND - no queue 'no.such.queue' in vhost '/'"));
  EXPECT_TRUE(conn->is_open());
  EXPECT_TRUE(bystander->is_open());
  fill(*bystander, q, 1);  // a round trip: the server has our close-ok by its reply
  EXPECT_EQ(server_connections(), 1u);
  EXPECT_EQ(server_channels(), 1u);

  ASSERT_TRUE(ch->close());  // frees the closed channel's id
  Channel* fresh = open_channel(*conn);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(drain(*fresh, q), (std::vector<std::string>{"0"}));
}

TEST_F(ChannelErrors, UnackedOfAClosedChannelAreRequeued) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 2);
  get_tag(*ch, q);
  get_tag(*ch, q);
  ASSERT_TRUE(ch->ack(99));  // the error closes the channel; its two unacked go back
  EXPECT_TRUE(failed_with(ch->qos(1), 406, "PRECONDITION_FAILED - unknown delivery tag 99"));
  Channel* fresh = open_channel(*conn);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(drain(*fresh, q), (std::vector<std::string>{"0*", "1*"}));
}

}  // namespace
}  // namespace pulse::server::testing
