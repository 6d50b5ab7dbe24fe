// Queue limits and lifetimes: x-max-length(-bytes) with each overflow policy, x-max-priority,
// x-message-ttl / per-message expiration, and x-expires. Timers are driven with
// Broker::run_timers at a future time point instead of sleeping.
#include <gtest/gtest.h>

#include <thread>

#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

using Strings = std::vector<std::string>;

class QueueLimitsTest : public BrokerTest {
 protected:
  // A fanout DLX "dlx" feeding queue "dead".
  void SetUp() override {
    exchange("dlx", "fanout");
    declare("dead");
    bind("dead", "dlx", "");
  }
  std::string reason_of_dead_head() {
    auto m = vh.find_queue("dead")->get(false);
    if (!m) return "<none>";
    const auto* xd = amqp::find(m->msg->properties().headers, "x-death");
    if (!xd || !xd->as_array() || xd->as_array()->empty()) return "<no x-death>";
    const auto* r = amqp::find(*xd->as_array()->front().as_table(), "reason");
    return r && r->as_string() ? *r->as_string() : "<no reason>";
  }
};

// --- x-max-length / x-max-length-bytes ---------------------------------------------------

struct LimitCase {
  const char* name;
  FieldTable args;  // x-dead-letter-exchange=dlx is added
  Strings publish;
  Strings remaining;
  std::vector<bool> rejected;  // PublishOutcome.rejected per publish
  Strings dead;                // dead-lettered with reason maxlen
};

class QueueLimitCases : public QueueLimitsTest, public ::testing::WithParamInterface<LimitCase> {};

TEST_P(QueueLimitCases, AppliesOverflowPolicy) {
  const LimitCase& c = GetParam();
  FieldTable args = c.args;
  args.emplace_back("x-dead-letter-exchange", std::string("dlx"));
  auto q = declare("q", args);
  std::vector<bool> rejected;
  for (const auto& b : c.publish) {
    PublishOutcome o = to_queue("q", b);
    EXPECT_EQ(o.routed, 1u) << b;
    rejected.push_back(o.rejected);
  }
  EXPECT_EQ(rejected, c.rejected);
  EXPECT_EQ(drain(*q), c.remaining);
  auto dead = vh.find_queue("dead");
  Strings dead_bodies;
  while (dead->message_count() > 0) {
    auto m = dead->get(true);
    dead_bodies.push_back(m->msg->body);
    const auto& xd = *amqp::find(m->msg->properties().headers, "x-death")->as_array();
    EXPECT_EQ(*amqp::find(*xd[0].as_table(), "reason")->as_string(), "maxlen");
  }
  EXPECT_EQ(dead_bodies, c.dead);
}

const FieldValue kRejectPublish{std::string("reject-publish")};
const FieldValue kRejectPublishDlx{std::string("reject-publish-dlx")};
const FieldValue kDropHead{std::string("drop-head")};

INSTANTIATE_TEST_SUITE_P(
    Overflow, QueueLimitCases,
    ::testing::Values(
        LimitCase{"len_drop_head_default",
                  {{"x-max-length", int32_t{2}}},
                  {"a", "b", "c", "d"},
                  {"c", "d"},
                  {false, false, false, false},
                  {"a", "b"}},
        LimitCase{"len_drop_head_explicit",
                  {{"x-max-length", int64_t{1}}, {"x-overflow", kDropHead}},
                  {"a", "b"},
                  {"b"},
                  {false, false},
                  {"a"}},
        LimitCase{
            "len_zero_drops_everything", {{"x-max-length", int32_t{0}}}, {"a"}, {}, {false}, {"a"}},
        LimitCase{"len_reject_publish",
                  {{"x-max-length", int32_t{2}}, {"x-overflow", kRejectPublish}},
                  {"a", "b", "c"},
                  {"a", "b"},
                  {false, false, true},
                  {}},
        LimitCase{"len_reject_publish_dlx",
                  {{"x-max-length", int32_t{2}}, {"x-overflow", kRejectPublishDlx}},
                  {"a", "b", "c"},
                  {"a", "b"},
                  {false, false, true},
                  {"c"}},
        LimitCase{"bytes_drop_head",
                  {{"x-max-length-bytes", int32_t{5}}},
                  {"aa", "bbb", "cc"},
                  {"bbb", "cc"},
                  {false, false, false},
                  {"aa"}},
        LimitCase{"bytes_single_oversized_message_dropped",
                  {{"x-max-length-bytes", int32_t{3}}},
                  {"abcd", "xyz"},
                  {"xyz"},
                  {false, false},
                  {"abcd"}},
        LimitCase{"bytes_reject_publish",
                  {{"x-max-length-bytes", int32_t{5}}, {"x-overflow", kRejectPublish}},
                  {"aa", "bbb", "c"},
                  {"aa", "bbb"},
                  {false, false, true},
                  {}},
        LimitCase{"bytes_reject_publish_dlx",
                  {{"x-max-length-bytes", int32_t{4}}, {"x-overflow", kRejectPublishDlx}},
                  {"aa", "bb", "cc"},
                  {"aa", "bb"},
                  {false, false, true},
                  {"cc"}},
        LimitCase{"both_limits_first_hit_wins",
                  {{"x-max-length", int32_t{3}}, {"x-max-length-bytes", int32_t{4}}},
                  {"a", "b", "cc", "dd"},
                  {"cc", "dd"},
                  {false, false, false, false},
                  {"a", "b"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(QueueLimitsTest, EnqueueReportsRejectedOutcome) {
  auto q = declare("q", {{"x-max-length", int32_t{1}}, {"x-overflow", kRejectPublish}});
  auto msg = std::make_shared<const Message>(make("", "q", "a"));
  EXPECT_EQ(q->enqueue(msg), EnqueueOutcome::kQueued);
  EXPECT_EQ(q->enqueue(msg), EnqueueOutcome::kRejected);
  EXPECT_EQ(q->message_count(), 1u);
}

TEST_F(QueueLimitsTest, RejectPublishCountsOnlyReadyMessages) {
  auto q = declare("q", {{"x-max-length", int32_t{1}}, {"x-overflow", kRejectPublish}});
  to_queue("q", "a");
  auto held = q->get(false);  // unacked: no longer counts against the limit
  ASSERT_TRUE(held);
  EXPECT_FALSE(to_queue("q", "b").rejected);
  EXPECT_TRUE(to_queue("q", "c").rejected);
}

// --- x-max-priority ------------------------------------------------------------------------

struct PriorityCase {
  const char* name;
  FieldTable args;
  std::vector<std::pair<std::string, int>> publish;  // priority -1: property absent
  Strings expected;
};

class PriorityCases : public BrokerTest, public ::testing::WithParamInterface<PriorityCase> {};

TEST_P(PriorityCases, DeliversInPriorityOrder) {
  const auto& c = GetParam();
  auto q = declare("pq", c.args);
  for (const auto& [body, prio] : c.publish) {
    to_queue("pq", body, prio < 0 ? amqp::BasicProperties{} : with_priority(uint8_t(prio)));
  }
  EXPECT_EQ(drain(*q), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    MaxPriority, PriorityCases,
    ::testing::Values(PriorityCase{"higher_first_fifo_within_level",
                                   {{"x-max-priority", int32_t{5}}},
                                   {{"a", -1}, {"b", 3}, {"c", 5}, {"d", 3}, {"e", 0}, {"f", 5}},
                                   {"c", "f", "b", "d", "a", "e"}},
                      PriorityCase{"above_max_treated_as_max",
                                   {{"x-max-priority", int32_t{2}}},
                                   {{"a", 2}, {"b", 9}, {"c", 255}, {"d", 1}},
                                   {"a", "b", "c", "d"}},
                      PriorityCase{"no_max_priority_is_fifo",
                                   {},
                                   {{"a", 1}, {"b", 9}, {"c", -1}, {"d", 5}},
                                   {"a", "b", "c", "d"}},
                      PriorityCase{"max_priority_zero_is_fifo",
                                   {{"x-max-priority", int32_t{0}}},
                                   {{"a", 0}, {"b", 1}},
                                   {"a", "b"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(QueueLimitsTest, PriorityQueueRequeueKeepsLevelPosition) {
  auto q = declare("pq", {{"x-max-priority", int32_t{9}}});
  to_queue("pq", "lo", with_priority(1));
  to_queue("pq", "hi1", with_priority(7));
  to_queue("pq", "hi2", with_priority(7));
  auto m = q->get(false);
  ASSERT_EQ(m->msg->body, "hi1");
  q->requeue(std::move(*m));
  EXPECT_EQ(drain(*q), (Strings{"hi1", "hi2", "lo"}));
}

// --- TTL -----------------------------------------------------------------------------------

TEST_F(QueueLimitsTest, MessageTtlExpiresOnTimer) {
  auto q = declare("q", {{"x-message-ttl", int32_t{1000}}, {"x-dead-letter-exchange", "dlx"}});
  to_queue("q", "a");
  to_queue("q", "b");
  ASSERT_TRUE(broker.next_timer());
  advance(500ms);
  EXPECT_EQ(q->message_count(), 2u);
  advance(5s);
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(vh.find_queue("dead")->message_count(), 2u);
  EXPECT_EQ(reason_of_dead_head(), "expired");
}

TEST_F(QueueLimitsTest, PerMessageExpirationOnlyAtHead) {
  auto q = declare("q", {{"x-dead-letter-exchange", "dlx"}});
  to_queue("q", "keep");
  to_queue("q", "short", with_expiration("100"));
  advance(5s);
  // The expired message sits behind a live head and still counts.
  EXPECT_EQ(q->message_count(), 2u);
  auto head = q->get(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->msg->body, "keep");
  // Now at the head, it goes when its deadline passes (a timer was armed for it).
  advance(5s);
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(reason_of_dead_head(), "expired");
}

TEST_F(QueueLimitsTest, NewHeadAfterDeliveryArmsTimer) {
  auto q = declare("q", {{"x-dead-letter-exchange", "dlx"}});
  to_queue("q", "keep");
  to_queue("q", "short", with_expiration("100"));
  FakeSink& sink = new_sink(1);
  consume(*q, sink, "c");
  ASSERT_EQ(sink.bodies(), (Strings{"keep"}));
  advance(5s);
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(vh.find_queue("dead")->message_count(), 1u);
}

TEST_F(QueueLimitsTest, ShorterOfQueueTtlAndExpirationApplies) {
  auto q = declare("q", {{"x-message-ttl", int32_t{60000}}});
  to_queue("q", "short", with_expiration("1000"));
  advance(2s);
  EXPECT_EQ(q->message_count(), 0u);
  auto q2 = declare("q2", {{"x-message-ttl", int32_t{1000}}});
  to_queue("q2", "long", with_expiration("60000"));
  advance(2s);
  EXPECT_EQ(q2->message_count(), 0u);
}

struct TtlZeroCase {
  const char* name;
  bool queue_ttl;  // x-message-ttl 0, else expiration "0"
  bool has_consumer;
  int credit;  // the consumer's credit, -1 unlimited
  bool delivered;
};

class TtlZeroCases : public QueueLimitsTest, public ::testing::WithParamInterface<TtlZeroCase> {};

TEST_P(TtlZeroCases, DeliveredOnlyToConsumerThatCanTakeNow) {
  const auto& c = GetParam();
  FieldTable args{{"x-dead-letter-exchange", "dlx"}};
  if (c.queue_ttl) args.emplace_back("x-message-ttl", int32_t{0});
  auto q = declare("q", args);
  FakeSink& sink = new_sink(c.credit);
  if (c.has_consumer) consume(*q, sink, "c");
  to_queue("q", "m", c.queue_ttl ? amqp::BasicProperties{} : with_expiration("0"));
  EXPECT_EQ(sink.deliveries.size(), c.delivered ? 1u : 0u);
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(vh.find_queue("dead")->message_count(), c.delivered ? 0u : 1u);
}

INSTANTIATE_TEST_SUITE_P(
    TtlZero, TtlZeroCases,
    ::testing::Values(TtlZeroCase{"queue_ttl_no_consumer", true, false, -1, false},
                      TtlZeroCase{"queue_ttl_ready_consumer", true, true, -1, true},
                      TtlZeroCase{"queue_ttl_full_consumer", true, true, 0, false},
                      TtlZeroCase{"expiration_no_consumer", false, false, -1, false},
                      TtlZeroCase{"expiration_ready_consumer", false, true, 1, true},
                      TtlZeroCase{"expiration_full_consumer", false, true, 0, false}),
    [](const auto& info) { return std::string(info.param.name); });

// --- x-expires -----------------------------------------------------------------------------

TEST_F(QueueLimitsTest, ExpiresDeletesUnusedQueue) {
  auto q = declare("ex", {{"x-expires", int32_t{1000}}});
  exchange("x", "fanout", {}, /*auto_delete=*/true);
  bind("ex", "x", "");
  to_queue("ex", "m");  // messages do not count as use
  advance(500ms);
  EXPECT_NE(vh.find_queue("ex"), nullptr);
  advance(5s);
  EXPECT_EQ(vh.find_queue("ex"), nullptr);
  EXPECT_TRUE(q->deleted());
  // Its bindings went with it, and so did the auto-delete exchange they kept alive.
  EXPECT_EQ(vh.find_exchange("x"), nullptr);
}

TEST_F(QueueLimitsTest, ConsumerKeepsExpiringQueueAlive) {
  auto q = declare("ex", {{"x-expires", int32_t{1000}}});
  FakeSink& sink = new_sink();
  Consumer* c = consume(*q, sink, "c");
  advance(5s);
  EXPECT_NE(vh.find_queue("ex"), nullptr);
  EXPECT_FALSE(q->remove_consumer(c));
  advance(500ms);
  EXPECT_NE(vh.find_queue("ex"), nullptr);
  advance(5s);
  EXPECT_EQ(vh.find_queue("ex"), nullptr);
  EXPECT_TRUE(sink.cancelled.empty());  // it had no consumer left to cancel
}

TEST_F(QueueLimitsTest, StaleTimerDoesNotExpireRecentlyUsedQueue) {
  auto q = declare("ex", {{"x-expires", int32_t{40}}});
  auto armed = broker.next_timer();
  ASSERT_TRUE(armed);
  // Let real time pass the first deadline, then use the queue (redeclare counts as use).
  std::this_thread::sleep_until(*armed + 5ms);
  declare("ex", {{"x-expires", int32_t{40}}});
  broker.run_timers(*armed + 5ms);
  EXPECT_NE(vh.find_queue("ex"), nullptr);
  advance(1s);
  EXPECT_EQ(vh.find_queue("ex"), nullptr);
}

}  // namespace
}  // namespace pulse::broker::testing
