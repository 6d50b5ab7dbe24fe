// basic.qos prefetch windows and ack / nack / reject, as a client sees them (the server's
// channel_delivery.cc against tests/integration/test_basic_consume.py and test_basic_ack.py).
#include <string>
#include <vector>

#include "server_fixture.h"

namespace pulse::server::testing {
namespace {

using ChannelAck = ServerTest;

// Starts a consumer on q that records the delivery tags it receives.
void consume_tags(Channel& c, const std::string& q, std::vector<uint64_t>& tags) {
  auto tag = c.consume(q, [&tags](const client::Delivery& d) { tags.push_back(d.delivery_tag); });
  EXPECT_TRUE(tag.ok()) << tag.error().text;
}

class ChannelQos : public ServerTest {
 protected:
  // A server-named queue q1 of n messages with a consumer recording its delivery tags.
  void consume_queue(int n, std::vector<uint64_t>& tags) {
    q1 = temp_queue(*ch);
    fill(*ch, q1, n);
    consume_tags(*ch, q1, tags);
  }
  // Two server-named queues of five messages each, with a consumer on each recording its
  // delivery tags (pass the same vector twice for the channel's total).
  void consume_two_queues(std::vector<uint64_t>& tags1, std::vector<uint64_t>& tags2) {
    q1 = temp_queue(*ch);
    q2 = temp_queue(*ch);
    fill(*ch, q1, 5);
    fill(*ch, q2, 5);
    consume_tags(*ch, q1, tags1);
    consume_tags(*ch, q2, tags2);
  }
  // Pumps until `tags` holds n deliveries, then a little longer: how many arrived in all.
  size_t deliveries(const std::vector<uint64_t>& tags, size_t n) {
    EXPECT_TRUE(pump_until(*conn, [&] { return tags.size() >= n; })) << "fewer than " << n;
    settle(*conn);
    return tags.size();
  }
  std::string q1, q2;
};

TEST_F(ChannelQos, PerConsumerWindowStopsDeliveriesUntilAcked) {
  ASSERT_TRUE(ch->qos(3));
  std::vector<uint64_t> tags;
  consume_queue(10, tags);
  EXPECT_EQ(deliveries(tags, 3), 3u);
  EXPECT_EQ(tags, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(ready(*ch, q1), 7u);

  ASSERT_TRUE(ch->ack(tags.back(), /*multiple=*/true));
  EXPECT_EQ(deliveries(tags, 6), 6u);
  EXPECT_EQ(ready(*ch, q1), 4u);
}

TEST_F(ChannelQos, NonGlobalAppliesToEachConsumer) {
  ASSERT_TRUE(ch->qos(2, /*global=*/false));
  std::vector<uint64_t> t1, t2;
  consume_two_queues(t1, t2);
  ASSERT_TRUE(pump_until(*conn, [&] { return t1.size() + t2.size() >= 4; }));
  settle(*conn);
  EXPECT_EQ(t1.size(), 2u);
  EXPECT_EQ(t2.size(), 2u);
}

TEST_F(ChannelQos, GlobalWindowIsSharedByTheChannel) {
  ASSERT_TRUE(ch->qos(3, /*global=*/true));
  std::vector<uint64_t> tags;
  consume_two_queues(tags, tags);
  EXPECT_EQ(deliveries(tags, 3), 3u);
  EXPECT_EQ(ready(*ch, q1) + ready(*ch, q2), 7u);

  // One ack frees one slot of the shared window.
  ASSERT_TRUE(ch->ack(tags.front()));
  EXPECT_EQ(deliveries(tags, 4), 4u);
}

TEST_F(ChannelQos, PerConsumerLimitBindsBeforeAGlobalOne) {
  ASSERT_TRUE(ch->qos(3, /*global=*/true));
  ASSERT_TRUE(ch->qos(1, /*global=*/false));
  std::vector<uint64_t> tags;
  consume_two_queues(tags, tags);
  EXPECT_EQ(deliveries(tags, 2), 2u);  // one each; the channel's 3 is not reached
  EXPECT_EQ(ready(*ch, q1), 4u);
  EXPECT_EQ(ready(*ch, q2), 4u);
}

TEST_F(ChannelQos, LaterQosDoesNotChangeAnExistingConsumer) {
  ASSERT_TRUE(ch->qos(2));
  std::vector<uint64_t> tags;
  consume_queue(6, tags);
  ASSERT_TRUE(ch->qos(5));
  EXPECT_EQ(deliveries(tags, 2), 2u);
}

TEST_F(ChannelQos, GetIgnoresThePrefetchWindow) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 3);
  ASSERT_TRUE(ch->qos(1));
  EXPECT_EQ(get_tag(*ch, q), 1u);
  EXPECT_EQ(get_tag(*ch, q), 2u);
  EXPECT_EQ(get_tag(*ch, q), 3u);
}

TEST_F(ChannelQos, PrefetchSizeIsNotImplementedAndClosesTheConnection) {
  EXPECT_TRUE(
      failed_with(ch->qos(0, false, 1000), 540, "NOT_IMPLEMENTED - prefetch_size!=0 (1000)"));
  EXPECT_FALSE(conn->is_open());
  ASSERT_NE(conn->error(), nullptr);
  EXPECT_EQ(conn->error()->class_id, 60);  // basic.qos
  EXPECT_EQ(conn->error()->method_id, 10);
}

TEST_F(ChannelAck, MultipleAckSettlesUpToTheTag) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 5);
  for (uint64_t t = 1; t <= 5; ++t) EXPECT_EQ(get_tag(*ch, q), t);
  ASSERT_TRUE(ch->ack(3, /*multiple=*/true));
  // Closing the channel requeues what is still unacked: only 3 and 4.
  ASSERT_TRUE(ch->close());
  ch = open_channel(*conn);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"3*", "4*"}));
}

TEST_F(ChannelAck, MultipleAckOfZeroSettlesEverything) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 3);
  for (int i = 0; i < 3; ++i) get_tag(*ch, q);
  ASSERT_TRUE(ch->ack(0, /*multiple=*/true));
  ASSERT_TRUE(ch->close());
  ch = open_channel(*conn);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ready(*ch, q), 0u);
}

TEST_F(ChannelAck, UnknownTagClosesTheChannel) {
  ASSERT_TRUE(ch->ack(42));
  EXPECT_TRUE(failed_with(ch->qos(1), 406, "PRECONDITION_FAILED - unknown delivery tag 42"));
  ASSERT_NE(ch->error(), nullptr);
  EXPECT_EQ(ch->error()->class_id, 60);  // basic.ack
  EXPECT_EQ(ch->error()->method_id, 80);
  EXPECT_TRUE(conn->is_open());
}

TEST_F(ChannelAck, DoubleAckIsAnUnknownTag) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 1);
  const uint64_t tag = get_tag(*ch, q);
  ASSERT_TRUE(ch->ack(tag));
  ASSERT_TRUE(ch->ack(tag));
  EXPECT_TRUE(failed_with(ch->qos(1), 406, "PRECONDITION_FAILED - unknown delivery tag 1"));
}

TEST_F(ChannelAck, AckOfAnAutoAckDeliveryIsAnUnknownTag) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 1);
  auto m = ch->get(q, /*no_ack=*/true);
  ASSERT_TRUE(m.ok() && *m);
  ASSERT_TRUE(ch->ack((*m)->delivery_tag));
  EXPECT_TRUE(failed_with(ch->qos(1), 406, "PRECONDITION_FAILED - unknown delivery tag 1"));
}

TEST_F(ChannelAck, RejectOfAnUnknownTag) {
  ASSERT_TRUE(ch->reject(7));
  EXPECT_TRUE(failed_with(ch->qos(1), 406, "PRECONDITION_FAILED - unknown delivery tag 7"));
}

TEST_F(ChannelAck, NackRequeueKeepsPositionAndMarksRedelivered) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 4);
  get_tag(*ch, q);
  const uint64_t second = get_tag(*ch, q);
  ASSERT_TRUE(ch->nack(second, /*multiple=*/true, /*requeue=*/true));
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"0*", "1*", "2", "3"}));
}

TEST_F(ChannelAck, RejectRequeuesOneAndDiscardsAnother) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 3);
  const uint64_t a = get_tag(*ch, q), b = get_tag(*ch, q);
  ASSERT_TRUE(ch->reject(b, /*requeue=*/true));
  ASSERT_TRUE(ch->reject(a, /*requeue=*/false));  // no dead-letter exchange: dropped
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"1*", "2"}));
}

TEST_F(ChannelAck, NackMultipleWithoutRequeueDiscards) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 3);
  get_tag(*ch, q);
  get_tag(*ch, q);
  ASSERT_TRUE(ch->nack(0, /*multiple=*/true, /*requeue=*/false));
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"2"}));
}

TEST_F(ChannelAck, ClosingAChannelRequeuesItsUnacked) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 3);
  Channel* other = open_channel(*conn);
  ASSERT_NE(other, nullptr);
  get_tag(*other, q);
  get_tag(*other, q);
  EXPECT_EQ(ready(*ch, q), 1u);
  ASSERT_TRUE(other->close());
  EXPECT_EQ(drain(*ch, q), (std::vector<std::string>{"0*", "1*", "2"}));
}

TEST_F(ChannelAck, ConsumerGetsANackedMessageAgainAsRedelivered) {
  const auto q = temp_queue(*ch);
  fill(*ch, q, 1);
  std::vector<std::string> seen;
  auto tag = ch->consume(q, [&](const client::Delivery& d) {
    seen.push_back(std::string(d.body) + (d.redelivered ? "*" : ""));
    if (d.redelivered) {
      EXPECT_TRUE(d.channel->ack(d.delivery_tag));
    } else {
      EXPECT_TRUE(d.channel->nack(d.delivery_tag, false, /*requeue=*/true));
    }
  });
  ASSERT_TRUE(tag.ok()) << tag.error().text;
  ASSERT_TRUE(pump_until(*conn, [&] { return seen.size() >= 2; }));
  settle(*conn);
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "0*"}));
  EXPECT_EQ(ready(*ch, q), 0u);
}

TEST_F(ChannelAck, GetReportsTheMessagesLeftAndEmpty) {
  const auto q = temp_queue(*ch);
  auto empty = ch->get(q);
  ASSERT_TRUE(empty.ok()) << empty.error().text;
  EXPECT_FALSE(*empty);
  fill(*ch, q, 3);
  auto m = ch->get(q);
  ASSERT_TRUE(m.ok() && *m);
  EXPECT_EQ((*m)->body, "0");
  EXPECT_EQ((*m)->message_count, 2u);  // left after this one
  EXPECT_EQ((*m)->delivery_tag, 1u);
  EXPECT_FALSE((*m)->redelivered);
  EXPECT_EQ((*m)->exchange, "");
  EXPECT_EQ((*m)->routing_key, q);
}

}  // namespace
}  // namespace pulse::server::testing
