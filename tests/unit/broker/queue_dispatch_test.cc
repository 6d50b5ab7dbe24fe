// Queue dispatch: order, round-robin, consumer priorities, single active consumer, flow
// control through can_take(), requeue (classic and quorum) and auto-delete on last consumer.
#include <gtest/gtest.h>

#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

using Strings = std::vector<std::string>;

class QueueDispatchTest : public BrokerTest {};

TEST_F(QueueDispatchTest, DeliversInPublishOrder) {
  auto q = declare("q");
  for (const char* b : {"m1", "m2", "m3"}) to_queue("q", b);
  EXPECT_EQ(q->message_count(), 3u);
  FakeSink& sink = new_sink();
  consume(*q, sink, "c");
  EXPECT_EQ(sink.bodies(), (Strings{"m1", "m2", "m3"}));
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(q->unacked_count(), 3u);
  for (const auto& d : sink.deliveries) EXPECT_FALSE(d.m.redelivered);
}

TEST_F(QueueDispatchTest, NoAckConsumerLeavesNothingUnacked) {
  auto q = declare("q");
  FakeSink& sink = new_sink();
  consume(*q, sink, "c", 0, /*no_ack=*/true);
  to_queue("q", "m1");
  EXPECT_EQ(sink.bodies(), (Strings{"m1"}));
  EXPECT_EQ(q->unacked_count(), 0u);
}

TEST_F(QueueDispatchTest, RoundRobinBetweenEqualConsumers) {
  auto q = declare("q");
  FakeSink& a = new_sink();
  FakeSink& b = new_sink();
  FakeSink& c = new_sink();
  consume(*q, a, "a");
  consume(*q, b, "b");
  consume(*q, c, "c");
  for (int i = 1; i <= 7; ++i) to_queue("q", "m" + std::to_string(i));
  EXPECT_EQ(a.bodies(), (Strings{"m1", "m4", "m7"}));
  EXPECT_EQ(b.bodies(), (Strings{"m2", "m5"}));
  EXPECT_EQ(c.bodies(), (Strings{"m3", "m6"}));
}

TEST_F(QueueDispatchTest, RoundRobinSkipsConsumerThatCannotTake) {
  auto q = declare("q");
  FakeSink& a = new_sink(1);
  FakeSink& b = new_sink();
  consume(*q, a, "a");
  consume(*q, b, "b");
  for (int i = 1; i <= 4; ++i) to_queue("q", "m" + std::to_string(i));
  EXPECT_EQ(a.bodies(), (Strings{"m1"}));
  EXPECT_EQ(b.bodies(), (Strings{"m2", "m3", "m4"}));
}

TEST_F(QueueDispatchTest, HigherPriorityConsumerFedWhileItCanTake) {
  auto q = declare("q");
  FakeSink& low = new_sink();
  FakeSink& high = new_sink(2);
  consume(*q, low, "low", 0);
  consume(*q, high, "high", 10);
  for (int i = 1; i <= 5; ++i) to_queue("q", "m" + std::to_string(i));
  EXPECT_EQ(high.bodies(), (Strings{"m1", "m2"}));
  EXPECT_EQ(low.bodies(), (Strings{"m3", "m4", "m5"}));
  // Capacity back: the high-priority consumer is preferred again.
  high.credit = -1;
  to_queue("q", "m6");
  to_queue("q", "m7");
  EXPECT_EQ(high.bodies(), (Strings{"m1", "m2", "m6", "m7"}));
  EXPECT_EQ(low.bodies().size(), 3u);
}

TEST_F(QueueDispatchTest, NegativePriorityIsBelowDefault) {
  auto q = declare("q");
  FakeSink& neg = new_sink();
  FakeSink& def = new_sink();
  consume(*q, neg, "neg", -5);
  consume(*q, def, "def");
  for (int i = 1; i <= 3; ++i) to_queue("q", "m" + std::to_string(i));
  EXPECT_TRUE(neg.deliveries.empty());
  EXPECT_EQ(def.bodies().size(), 3u);
}

TEST_F(QueueDispatchTest, SingleActiveConsumerOnlyFirstReceives) {
  auto q = declare("q", {{"x-single-active-consumer", true}});
  FakeSink& first = new_sink(2);
  FakeSink& second = new_sink();
  Consumer* c1 = consume(*q, first, "first");
  consume(*q, second, "second");
  for (int i = 1; i <= 4; ++i) to_queue("q", "m" + std::to_string(i));
  EXPECT_EQ(first.bodies(), (Strings{"m1", "m2"}));
  // The second consumer gets nothing even though the first one is full.
  EXPECT_TRUE(second.deliveries.empty());
  EXPECT_EQ(q->message_count(), 2u);
  EXPECT_FALSE(q->remove_consumer(c1));
  EXPECT_EQ(second.bodies(), (Strings{"m3", "m4"}));
}

TEST_F(QueueDispatchTest, RefusingSinkResumesOnDispatch) {
  auto q = declare("q");
  FakeSink& sink = new_sink(0);
  consume(*q, sink, "c");
  for (const char* b : {"m1", "m2", "m3"}) to_queue("q", b);
  EXPECT_TRUE(sink.deliveries.empty());
  EXPECT_EQ(q->message_count(), 3u);
  sink.credit = 2;
  q->dispatch();
  EXPECT_EQ(sink.bodies(), (Strings{"m1", "m2"}));
  sink.credit = -1;
  q->dispatch();
  EXPECT_EQ(sink.bodies(), (Strings{"m1", "m2", "m3"}));
  EXPECT_EQ(q->message_count(), 0u);
}

TEST_F(QueueDispatchTest, ClassicRequeueKeepsOriginalPosition) {
  auto q = declare("q");
  FakeSink& sink = new_sink(3);
  consume(*q, sink, "c");
  for (const char* b : {"m1", "m2", "m3", "m4"}) to_queue("q", b);
  ASSERT_EQ(sink.bodies(), (Strings{"m1", "m2", "m3"}));
  // Return m2 first, then m1: they still end up ahead of m4 in their original order.
  QueuedMessage m2 = sink.take(1);
  QueuedMessage m1 = sink.take(0);
  q->requeue(std::move(m2));
  q->requeue(std::move(m1));
  EXPECT_EQ(q->unacked_count(), 1u);
  EXPECT_EQ(q->message_count(), 3u);
  Strings order;
  std::vector<bool> redelivered;
  while (auto m = q->get(true)) {
    order.push_back(m->msg->body);
    redelivered.push_back(m->redelivered);
  }
  EXPECT_EQ(order, (Strings{"m1", "m2", "m4"}));
  EXPECT_EQ(redelivered, (std::vector<bool>{true, true, false}));
}

TEST_F(QueueDispatchTest, RequeueGoesToAnotherWaitingConsumer) {
  auto q = declare("q");
  FakeSink& a = new_sink(1);
  FakeSink& b = new_sink(0);
  consume(*q, a, "a");
  consume(*q, b, "b");
  to_queue("q", "m1");
  ASSERT_EQ(a.bodies(), (Strings{"m1"}));
  b.credit = -1;
  q->requeue(a.take());
  ASSERT_EQ(b.bodies(), (Strings{"m1"}));
  EXPECT_TRUE(b.deliveries[0].m.redelivered);
}

const FieldValue* delivery_count(const QueuedMessage& m) {
  if (!m.msg->properties().has(amqp::BasicProperties::kHeaders)) return nullptr;
  return amqp::find(m.msg->properties().headers, "x-delivery-count");
}

TEST_F(QueueDispatchTest, QuorumRequeueGoesToBackWithDeliveryCount) {
  auto q = declare_quorum("qq");
  for (const char* b : {"m1", "m2", "m3"}) to_queue("qq", b);
  auto first = q->get(false);
  ASSERT_TRUE(first);
  EXPECT_EQ(delivery_count(*first), nullptr);  // no header on the first delivery
  q->requeue(std::move(*first));
  auto second = q->get(false);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->msg->body, "m2");
  EXPECT_EQ(drain(*q), (Strings{"m3", "m1"}));

  // Once more through a consumer: the count grows, and the message is marked redelivered.
  to_queue("qq", "x");
  FakeSink& sink = new_sink(1);
  consume(*q, sink, "c");
  q->requeue(sink.take());
  q->requeue(std::move(*second));  // m2, first return
  sink.credit = -1;
  q->dispatch();
  ASSERT_EQ(sink.bodies(), (Strings{"x", "m2"}));
  for (const auto& d : sink.deliveries) {
    EXPECT_TRUE(d.m.redelivered);
    const FieldValue* c = delivery_count(d.m);
    ASSERT_NE(c, nullptr) << d.body();
    EXPECT_EQ(c->as_int(), 1) << d.body();
  }
}

TEST_F(QueueDispatchTest, QuorumDeliveryCountIncrementsPerReturn) {
  auto q = declare_quorum("qq");
  to_queue("qq", "m");
  auto m = q->get(false);
  for (int64_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(m);
    q->requeue(std::move(*m));
    m = q->get(false);
    ASSERT_TRUE(m);
    ASSERT_NE(delivery_count(*m), nullptr);
    EXPECT_EQ(delivery_count(*m)->as_int(), n);
  }
}

TEST_F(QueueDispatchTest, SettleAckedReducesUnacked) {
  auto q = declare("q");
  to_queue("q", "m1");
  auto m = q->get(false);
  ASSERT_TRUE(m);
  EXPECT_EQ(q->unacked_count(), 1u);
  q->settle_acked(*m);
  EXPECT_EQ(q->unacked_count(), 0u);
  EXPECT_EQ(q->message_count(), 0u);
}

TEST_F(QueueDispatchTest, RejectWithoutDlxDropsMessage) {
  auto q = declare("q");
  to_queue("q", "m1");
  auto m = q->get(false);
  ASSERT_TRUE(m);
  q->settle_rejected(std::move(*m));
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(q->unacked_count(), 0u);
}

TEST_F(QueueDispatchTest, AutoDeleteSignalledAfterLastConsumerLeaves) {
  QueueDeclare d;
  d.name = "ad";
  d.auto_delete = true;
  auto q = vh.declare_queue(std::move(d));
  ASSERT_TRUE(q.ok());
  FakeSink& s1 = new_sink();
  FakeSink& s2 = new_sink();
  Consumer* c1 = consume(**q, s1, "c1");
  Consumer* c2 = consume(**q, s2, "c2");
  EXPECT_FALSE((*q)->remove_consumer(c1));
  EXPECT_TRUE((*q)->remove_consumer(c2));
  vh.remove_queue(**q);  // what the protocol side does on `true`
  EXPECT_EQ(vh.find_queue("ad"), nullptr);
  EXPECT_TRUE((*q)->deleted());

  auto plain = declare("plain");
  FakeSink& s3 = new_sink();
  EXPECT_FALSE(plain->remove_consumer(consume(*plain, s3, "c3")));
}

TEST_F(QueueDispatchTest, DeletingQueueCancelsConsumers) {
  auto q = declare("q");
  FakeSink& sink = new_sink();
  consume(*q, sink, "c1");
  consume(*q, sink, "c2");
  auto n = vh.delete_queue("q", false, false, kConn);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(sink.cancelled, (Strings{"c1", "c2"}));
  EXPECT_EQ(to_queue("q", "m").routed, 0u);
}

}  // namespace
}  // namespace pulse::broker::testing
