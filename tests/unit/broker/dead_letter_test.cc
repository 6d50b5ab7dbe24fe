// Dead lettering: the exact x-death layout RabbitMQ 3.10.8 writes (checked against a real node),
// dead-letter routing keys and CC, cycle detection, missing DLX and the quorum delivery limit.
#include <gtest/gtest.h>

#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

using Strings = std::vector<std::string>;

Strings keys_of(const FieldTable& t) {
  Strings k;
  for (const auto& [key, v] : t) k.push_back(key);
  return k;
}

const FieldTable& headers(const QueuedMessage& m) {
  EXPECT_TRUE(m.msg->properties().has(amqp::BasicProperties::kHeaders));
  return m.msg->properties().headers;
}

const FieldArray& deaths(const QueuedMessage& m) {
  static const FieldArray kEmpty;
  const FieldValue* v = amqp::find(headers(m), "x-death");
  return v && v->as_array() ? *v->as_array() : kEmpty;
}

const FieldTable& death(const QueuedMessage& m, size_t i) {
  static const FieldTable kEmpty;
  const auto& d = deaths(m);
  return i < d.size() && d[i].as_table() ? *d[i].as_table() : kEmpty;
}

std::string text(const FieldTable& t, const char* key) {
  const FieldValue* v = amqp::find(t, key);
  return v && v->as_string() ? *v->as_string() : "<absent>";
}

int64_t count(const FieldTable& t) {
  const FieldValue* v = amqp::find(t, "count");
  return v && v->as_int() ? *v->as_int() : -1;
}

Strings routing_keys(const FieldTable& t) {
  Strings out;
  if (const FieldValue* v = amqp::find(t, "routing-keys"))
    for (const auto& e : *v->as_array()) out.push_back(*e.as_string());
  return out;
}

class DeadLetterTest : public BrokerTest {
 protected:
  void SetUp() override {
    exchange("dlx", "fanout");
    declare("dead");
    bind("dead", "dlx", "");
  }
  // basic.get + basic.reject(requeue=false) of the head of `q`.
  void reject_head(const std::string& q) {
    auto m = vh.find_queue(q)->get(false);
    ASSERT_TRUE(m) << q;
    vh.find_queue(q)->settle_rejected(std::move(*m));
  }
  QueuedMessage take(const std::string& q) {
    auto m = vh.find_queue(q)->get(true);
    EXPECT_TRUE(m) << q << " is empty";
    if (m) return std::move(*m);
    QueuedMessage empty;
    empty.msg = std::make_shared<Message>();
    return empty;
  }
};

TEST_F(DeadLetterTest, FirstDeathLayout) {
  declare("src", {{"x-dead-letter-exchange", "dlx"}});
  amqp::BasicProperties p =
      with_headers({{"zeta", int32_t{1}}, {"CC", FieldArray{FieldValue("cc1")}}, {"alpha", "a"}});
  p.set_expiration("60000");
  to_queue("src", "m", p);
  reject_head("src");
  QueuedMessage m = take("dead");
  EXPECT_EQ(m.msg->routing_key, "src");
  EXPECT_EQ(m.msg->exchange, "dlx");
  EXPECT_FALSE(m.msg->properties().has(amqp::BasicProperties::kExpiration));
  // The whole header table ends up key-sorted, as rabbit_misc:set_table_value leaves it.
  EXPECT_EQ(keys_of(headers(m)), (Strings{"CC", "alpha", "x-death", "x-first-death-exchange",
                                          "x-first-death-queue", "x-first-death-reason", "zeta"}));
  ASSERT_EQ(deaths(m).size(), 1u);
  const FieldTable& d = death(m, 0);
  EXPECT_EQ(keys_of(d), (Strings{"count", "reason", "queue", "time", "exchange", "routing-keys",
                                 "original-expiration"}));
  EXPECT_EQ(amqp::find(d, "count")->tag(), 'l');
  EXPECT_EQ(count(d), 1);
  EXPECT_EQ(text(d, "reason"), "rejected");
  EXPECT_EQ(text(d, "queue"), "src");
  EXPECT_EQ(text(d, "exchange"), "");
  EXPECT_EQ(routing_keys(d), (Strings{"src", "cc1"}));
  EXPECT_EQ(text(d, "original-expiration"), "60000");
  const FieldValue* time = amqp::find(d, "time");
  ASSERT_EQ(time->tag(), 'T');
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_NEAR(static_cast<double>(std::get<amqp::Timestamp>(time->v).value),
              static_cast<double>(now_s), 5.0);
  EXPECT_EQ(text(headers(m), "x-first-death-reason"), "rejected");
  EXPECT_EQ(text(headers(m), "x-first-death-queue"), "src");
  EXPECT_EQ(text(headers(m), "x-first-death-exchange"), "");
  // Re-encoded: the wire properties match the changed ones.
  EXPECT_EQ(decode_raw(*m.msg), m.msg->properties());
}

TEST_F(DeadLetterTest, QueueTtlExpiryHasNoOriginalExpiration) {
  declare("src", {{"x-dead-letter-exchange", "dlx"}, {"x-message-ttl", int32_t{10}}});
  bind("src", "amq.direct", "k");
  publish("amq.direct", "k", "m");
  advance(5s);
  QueuedMessage m = take("dead");
  const FieldTable& d = death(m, 0);
  EXPECT_EQ(keys_of(d), (Strings{"count", "reason", "queue", "time", "exchange", "routing-keys"}));
  EXPECT_EQ(text(d, "reason"), "expired");
  EXPECT_EQ(text(d, "exchange"), "amq.direct");
  EXPECT_EQ(routing_keys(d), (Strings{"k"}));
  EXPECT_EQ(text(headers(m), "x-first-death-exchange"), "amq.direct");
}

struct RoutingCase {
  const char* name;
  bool dlrk;          // x-dead-letter-routing-key "zz"
  Strings receivers;  // of the DLX (direct: "by-key" <- "k", "by-cc" <- "cc1", "by-dlrk" <- "zz")
  bool cc_kept;
};

class DeadLetterRouting : public DeadLetterTest,
                          public ::testing::WithParamInterface<RoutingCase> {};

TEST_P(DeadLetterRouting, RoutesByKeyAndCcUnlessOverridden) {
  const auto& c = GetParam();
  exchange("dlxd", "direct");
  for (auto [q, k] : {std::pair{"by-key", "k"}, {"by-cc", "cc1"}, {"by-dlrk", "zz"}}) {
    declare(q);
    bind(q, "dlxd", k);
  }
  FieldTable args{{"x-dead-letter-exchange", "dlxd"}};
  if (c.dlrk) args.emplace_back("x-dead-letter-routing-key", "zz");
  declare("src", args);
  bind("src", "amq.direct", "k");
  publish("amq.direct", "k", "m", with_headers({{"CC", FieldArray{FieldValue("cc1")}}}));
  reject_head("src");
  Strings got;
  for (const char* q : {"by-key", "by-cc", "by-dlrk"}) {
    if (vh.find_queue(q)->message_count() == 0) continue;
    got.push_back(q);
    QueuedMessage m = take(q);
    EXPECT_EQ(amqp::find(headers(m), "CC") != nullptr, c.cc_kept);
    EXPECT_EQ(m.msg->routing_key, c.dlrk ? "zz" : "k");
    // The death records the keys the message had, CC included, even when CC is dropped.
    EXPECT_EQ(routing_keys(death(m, 0)), (Strings{"k", "cc1"}));
  }
  EXPECT_EQ(got, c.receivers);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, DeadLetterRouting,
    ::testing::Values(RoutingCase{"original_keys", false, {"by-key", "by-cc"}, true},
                      RoutingCase{"dlrk_drops_cc", true, {"by-dlrk"}, false}),
    [](const auto& info) { return std::string(info.param.name); });

// a -> b -> a -> b by rejection through a direct DLX, checking each step's x-death.
TEST_F(DeadLetterTest, RepeatDeathIncrementsAndMovesFirst) {
  exchange("dlxd", "direct");
  declare("a", {{"x-dead-letter-exchange", "dlxd"}, {"x-dead-letter-routing-key", "to-b"}});
  declare("b", {{"x-dead-letter-exchange", "dlxd"}, {"x-dead-letter-routing-key", "to-a"}});
  bind("a", "dlxd", "to-a");
  bind("b", "dlxd", "to-b");
  to_queue("a", "m");

  reject_head("a");
  {
    QueuedMessage m = *vh.find_queue("b")->get(false);
    ASSERT_EQ(deaths(m).size(), 1u);
    EXPECT_EQ(text(death(m, 0), "queue"), "a");
    vh.find_queue("b")->settle_rejected(std::move(m));
  }
  {
    QueuedMessage m = *vh.find_queue("a")->get(false);
    ASSERT_EQ(deaths(m).size(), 2u);
    // A new entry next to existing ones is written key-sorted; the older one is left as is.
    EXPECT_EQ(keys_of(death(m, 0)),
              (Strings{"count", "exchange", "queue", "reason", "routing-keys", "time"}));
    EXPECT_EQ(keys_of(death(m, 1)),
              (Strings{"count", "reason", "queue", "time", "exchange", "routing-keys"}));
    EXPECT_EQ(text(death(m, 0), "queue"), "b");
    EXPECT_EQ(text(death(m, 0), "exchange"), "dlxd");
    EXPECT_EQ(routing_keys(death(m, 0)), (Strings{"to-b"}));
    vh.find_queue("a")->settle_rejected(std::move(m));
  }
  QueuedMessage m = take("b");
  ASSERT_EQ(deaths(m).size(), 2u);
  const FieldTable& first = death(m, 0);
  EXPECT_EQ(keys_of(first),
            (Strings{"count", "exchange", "queue", "reason", "routing-keys", "time"}));
  EXPECT_EQ(text(first, "queue"), "a");
  EXPECT_EQ(count(first), 2);
  // Only the count changes: exchange and routing keys are those of the first death in a.
  EXPECT_EQ(text(first, "exchange"), "");
  EXPECT_EQ(routing_keys(first), (Strings{"a"}));
  EXPECT_EQ(text(death(m, 1), "queue"), "b");
  EXPECT_EQ(count(death(m, 1)), 1);
  EXPECT_EQ(text(headers(m), "x-first-death-queue"), "a");
  EXPECT_EQ(text(headers(m), "x-first-death-exchange"), "");
  EXPECT_EQ(text(headers(m), "x-first-death-reason"), "rejected");
}

TEST_F(DeadLetterTest, RejectedSelfLoopCountsUpInOneEntry) {
  declare("src", {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "src"}});
  to_queue("src", "m", with_expiration("100000"));
  reject_head("src");  // rejected: back into src, allowed
  auto m = vh.find_queue("src")->get(false);
  ASSERT_TRUE(m);
  EXPECT_EQ(count(death(*m, 0)), 1);
  vh.find_queue("src")->settle_rejected(std::move(*m));
  QueuedMessage again = take("src");
  ASSERT_EQ(deaths(again).size(), 1u);
  EXPECT_EQ(count(death(again, 0)), 2);
}

TEST_F(DeadLetterTest, InvalidXDeathIsResetWithoutFirstDeathHeaders) {
  declare("src", {{"x-dead-letter-exchange", "dlx"}});
  to_queue("src", "m", with_headers({{"x-death", "junk"}}));
  reject_head("src");
  QueuedMessage m = take("dead");
  ASSERT_EQ(deaths(m).size(), 1u);
  EXPECT_EQ(count(death(m, 0)), 1);
  EXPECT_EQ(amqp::find(headers(m), "x-first-death-queue"), nullptr);
}

TEST_F(DeadLetterTest, MissingDlxDropsSilently) {
  auto q = declare("src", {{"x-dead-letter-exchange", "nope"}});
  to_queue("src", "m");
  reject_head("src");
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(vh.find_queue("dead")->message_count(), 0u);
}

TEST_F(DeadLetterTest, ExpiredSelfLoopIsDroppedRejectedSelfLoopIsNot) {
  auto q = declare("loop", {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "loop"}});
  to_queue("loop", "expiring", with_expiration("10"));
  advance(5s);
  EXPECT_EQ(q->message_count(), 0u);
  to_queue("loop", "rejected");
  reject_head("loop");
  ASSERT_EQ(q->message_count(), 1u);
  EXPECT_EQ(text(death(take("loop"), 0), "reason"), "rejected");
}

TEST_F(DeadLetterTest, ExpiredTwoQueueCycleIsDropped) {
  auto c1 = declare("c1", {{"x-dead-letter-exchange", ""},
                           {"x-dead-letter-routing-key", "c2"},
                           {"x-message-ttl", int32_t{10}}});
  auto c2 = declare("c2", {{"x-dead-letter-exchange", ""},
                           {"x-dead-letter-routing-key", "c1"},
                           {"x-message-ttl", int32_t{60000}}});
  to_queue("c1", "m");
  advance(1s);
  ASSERT_EQ(c2->message_count(), 1u);
  advance(120s);
  EXPECT_EQ(c1->message_count(), 0u);
  EXPECT_EQ(c2->message_count(), 0u);
}

TEST_F(DeadLetterTest, CycleWithARejectionIsAllowed) {
  auto c1 = declare("c1", {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "c2"}});
  declare("c2", {{"x-dead-letter-exchange", ""},
                 {"x-dead-letter-routing-key", "c1"},
                 {"x-message-ttl", int32_t{10}}});
  to_queue("c1", "m");
  reject_head("c1");
  advance(5s);
  ASSERT_EQ(c1->message_count(), 1u);
  QueuedMessage m = take("c1");
  ASSERT_EQ(deaths(m).size(), 2u);
  EXPECT_EQ(text(death(m, 0), "reason"), "expired");
  EXPECT_EQ(text(death(m, 1), "reason"), "rejected");
}

TEST_F(DeadLetterTest, MaxLenSelfLoopIsDropped) {
  auto q = declare("ml", {{"x-max-length", int32_t{1}},
                          {"x-dead-letter-exchange", ""},
                          {"x-dead-letter-routing-key", "ml"}});
  to_queue("ml", "a");
  to_queue("ml", "b");
  EXPECT_EQ(drain(*q), (Strings{"b"}));
}

TEST_F(DeadLetterTest, QuorumDeliveryLimitDeadLetters) {
  auto q =
      declare_quorum("qq", {{"x-delivery-limit", int32_t{1}}, {"x-dead-letter-exchange", "dlx"}});
  to_queue("qq", "m");
  q->requeue(*q->get(false));  // first return: still within the limit
  ASSERT_EQ(q->message_count(), 1u);
  q->requeue(*q->get(false));  // second return: over the limit
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(q->unacked_count(), 0u);
  QueuedMessage m = take("dead");
  EXPECT_EQ(text(death(m, 0), "reason"), "delivery_limit");
  EXPECT_EQ(text(death(m, 0), "queue"), "qq");
}

TEST_F(DeadLetterTest, DeadLetteredCopyDoesNotChangeOtherQueuesCopy) {
  declare("src", {{"x-dead-letter-exchange", "dlx"}});
  declare("other");
  exchange("fan", "fanout");
  bind("src", "fan", "");
  bind("other", "fan", "");
  publish("fan", "", "m");
  reject_head("src");
  QueuedMessage kept = take("other");
  EXPECT_FALSE(kept.msg->properties().has(amqp::BasicProperties::kHeaders));
  EXPECT_EQ(vh.find_queue("dead")->message_count(), 1u);
}

}  // namespace
}  // namespace pulse::broker::testing
