// Broker counters (broker/counters.h): queue events count into the queue's vhost and the
// broker's totals, vhosts apart; lifecycle counters of queues.
#include <gtest/gtest.h>

#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

class CountersTest : public BrokerTest {};

TEST_F(CountersTest, QueueEventsCountPerVhostAndForTheBroker) {
  auto q = declare("q");
  for (int i = 0; i < 5; ++i) to_queue("q", "m");
  auto got = q->get(false);  // manual ack
  ASSERT_TRUE(got);
  q->settle_acked(*got);
  ASSERT_TRUE(q->get(true));  // automatic ack
  FakeSink& sink = new_sink();
  consume(*q, sink, "c");
  ASSERT_EQ(sink.deliveries.size(), 3u);
  q->requeue(sink.take());  // redelivered to the same consumer
  q->settle_acked(sink.take());

  const MessageCounters& v = vh.message_counters();
  EXPECT_EQ(v.queue_publish, 5u);
  EXPECT_EQ(v.get, 1u);
  EXPECT_EQ(v.get_no_ack, 1u);
  EXPECT_EQ(v.deliver, 4u);  // 3 and the redelivery
  EXPECT_EQ(v.redeliver, 1u);
  EXPECT_EQ(v.ack, 2u);
  const MessageCounters& b = broker.message_counters();
  EXPECT_EQ(b.queue_publish, 5u);
  EXPECT_EQ(b.deliver, 4u);
  EXPECT_EQ(b.ack, 2u);

  // Another vhost's traffic adds to the broker's totals only.
  VHost& other = broker.add_vhost("other");
  QueueDeclare d;
  d.name = "q2";
  ASSERT_TRUE(other.declare_queue(d).ok());
  other.count(&MessageCounters::publish, 3);
  EXPECT_EQ(other.message_counters().publish, 3u);
  EXPECT_EQ(vh.message_counters().publish, 0u);
  EXPECT_EQ(broker.message_counters().publish, 3u);
}

TEST_F(CountersTest, QueueLifecycle) {
  declare("a");
  declare("a");  // redeclared: declared again, not created
  declare("b");
  ASSERT_TRUE(vh.delete_queue("b", false, false, kConn).ok());
  const NodeCounters& n = broker.node_counters();
  EXPECT_EQ(n.queues_declared, 3u);
  EXPECT_EQ(n.queues_created, 2u);
  EXPECT_EQ(n.queues_deleted, 1u);
}

}  // namespace
}  // namespace pulse::broker::testing
