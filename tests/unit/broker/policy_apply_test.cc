// Policies applied live through VHost::set_policy / clear_policy: queues and exchanges pick
// them up at declare and whenever policies change, and new limits are enforced at once.
#include <gtest/gtest.h>

#include "broker/definitions_observer.h"
#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

using Strings = std::vector<std::string>;

// Records policy notifications only.
class PolicyLog : public DefinitionsObserver {
 public:
  void on_vhost_added(const std::string&) override {}
  void on_vhost_deleted(const std::string&) override {}
  void on_exchange_declared(VHost&, const Exchange&) override {}
  void on_exchange_deleted(VHost&, const Exchange&) override {}
  void on_queue_declared(VHost&, Queue&) override {}
  void on_queue_deleted(VHost&, const Queue&) override {}
  void on_binding_added(VHost&, const Binding&) override {}
  void on_binding_removed(VHost&, const Binding&) override {}
  void on_policy_set(VHost&, const Policy& p) override { events.push_back("set " + p.name()); }
  void on_policy_cleared(VHost&, const std::string& name) override {
    events.push_back("cleared " + name);
  }
  Strings events;
};

class PolicyApplyTest : public BrokerTest {
 protected:
  void SetUp() override {
    exchange("dlx", "fanout");
    declare("dead");
    bind("dead", "dlx", "");
  }
  void set(const std::string& name, const std::string& pattern, FieldTable def,
           int64_t priority = 0, const std::string& apply_to = "all") {
    auto s = vh.set_policy(PolicySpec{name, pattern, apply_to, priority, std::move(def)});
    ASSERT_TRUE(s.ok()) << s.error().text;
  }
  static std::string policy_of(const Queue& q) { return q.policy() ? q.policy()->name() : ""; }
  Strings dead_letters() {
    Strings out;
    auto dead = vh.find_queue("dead");
    while (auto m = dead->get(true)) {
      const auto& xd = *amqp::find(m->msg->properties().headers, "x-death")->as_array();
      out.push_back(m->msg->body + ":" + *amqp::find(*xd[0].as_table(), "reason")->as_string());
    }
    return out;
  }
};

TEST_F(PolicyApplyTest, NewQueuesPickUpTheMatchingPolicyAtDeclare) {
  set("lim", "^lim\\.", {{"max-length", int64_t{2}}});
  auto q = declare("lim.q");
  auto other = declare("other");
  EXPECT_EQ(policy_of(*q), "lim");
  EXPECT_EQ(q->args().max_length, 2);
  EXPECT_EQ(policy_of(*other), "");
  for (const char* b : {"a", "b", "c"}) to_queue("lim.q", b);
  EXPECT_EQ(drain(*q), (Strings{"b", "c"}));
}

TEST_F(PolicyApplyTest, LoweringMaxLengthOnAFullQueueDropsHeadsAndDeadLetters) {
  auto q = declare("q");
  for (const char* b : {"a", "b", "c", "d", "e"}) to_queue("q", b);
  set("shrink", "^q$", {{"max-length", int64_t{2}}, {"dead-letter-exchange", "dlx"}});
  EXPECT_EQ(q->message_count(), 2u);
  EXPECT_EQ(dead_letters(), (Strings{"a:maxlen", "b:maxlen", "c:maxlen"}));
  // Clearing the policy lifts the limit and the dead-letter exchange.
  ASSERT_TRUE(vh.clear_policy("shrink"));
  EXPECT_EQ(policy_of(*q), "");
  for (const char* b : {"f", "g", "h"}) to_queue("q", b);
  EXPECT_EQ(drain(*q), (Strings{"d", "e", "f", "g", "h"}));
  EXPECT_FALSE(vh.clear_policy("shrink"));
}

TEST_F(PolicyApplyTest, RejectPublishFromPolicy) {
  auto q = declare("q");
  set("full", "^q$", {{"max-length", int64_t{1}}, {"overflow", "reject-publish"}});
  EXPECT_FALSE(to_queue("q", "a").rejected);
  EXPECT_TRUE(to_queue("q", "b").rejected);
  EXPECT_EQ(drain(*q), (Strings{"a"}));
}

TEST_F(PolicyApplyTest, ArgumentsStillWinWhereRabbitMqSaysSo) {
  auto q = declare("q", {{"x-max-length", int32_t{3}}, {"x-overflow", "reject-publish"}});
  set("p", "^q$", {{"max-length", int64_t{10}}, {"overflow", "drop-head"}});
  EXPECT_EQ(q->args().max_length, 3);  // the smaller
  for (const char* b : {"a", "b", "c"}) to_queue("q", b);
  EXPECT_TRUE(to_queue("q", "d").rejected);  // the argument's overflow
  set("p", "^q$", {{"max-length", int64_t{1}}});
  // The queue's own overflow is reject-publish: nothing is dropped, new publishes refused.
  EXPECT_EQ(q->message_count(), 3u);
  EXPECT_TRUE(to_queue("q", "e").rejected);
}

TEST_F(PolicyApplyTest, LimitsApplyUnderTheOldOverflowFirst) {
  // RabbitMQ sets max-length before overflow: a drop-head queue given {max-length 1,
  // overflow reject-publish} drops its surplus heads first.
  auto q = declare("q", {{"x-dead-letter-exchange", "dlx"}});
  for (const char* b : {"a", "b", "c"}) to_queue("q", b);
  set("p", "^q$", {{"max-length", int64_t{1}}, {"overflow", "reject-publish"}});
  EXPECT_EQ(drain(*q), (Strings{"c"}));
  EXPECT_EQ(dead_letters(), (Strings{"a:maxlen", "b:maxlen"}));
}

TEST_F(PolicyApplyTest, MessageTtlAppliesToNewMessagesAndDeadLetters) {
  auto q = declare("ttl.q");
  to_queue("ttl.q", "before");
  set("ttl", "^ttl\\.", {{"message-ttl", int64_t{50}}, {"dead-letter-exchange", "dlx"}});
  to_queue("ttl.q", "after");
  advance(std::chrono::milliseconds(100));
  // Only the message published under the policy expired; the older one keeps no TTL, and the
  // new head is at the front so expiry reaches "after" only once "before" is gone.
  EXPECT_EQ(q->message_count(), 2u);
  EXPECT_EQ(drain(*q).front(), "before");
  to_queue("ttl.q", "later");
  advance(std::chrono::milliseconds(100));
  EXPECT_EQ(q->message_count(), 0u);
  EXPECT_EQ(dead_letters(), (Strings{"later:expired"}));
}

TEST_F(PolicyApplyTest, ExpiresDeletesAnUnusedQueueAndClearingKeepsIt) {
  declare("tmp.a");
  declare("tmp.b");
  set("exp", "^tmp\\.a", {{"expires", int64_t{50}}});
  advance(std::chrono::milliseconds(100));
  EXPECT_EQ(vh.find_queue("tmp.a"), nullptr);
  EXPECT_NE(vh.find_queue("tmp.b"), nullptr);

  declare("tmp.a");  // picks the policy up again
  ASSERT_TRUE(vh.clear_policy("exp"));
  advance(std::chrono::milliseconds(100));
  EXPECT_NE(vh.find_queue("tmp.a"), nullptr);
}

TEST_F(PolicyApplyTest, PriorityDecidesAndClearingFallsBack) {
  auto q = declare("jobs.x");
  set("broad", "^jobs\\.", {{"max-length", int64_t{5}}}, 1);
  set("narrow", "^jobs\\.x$", {{"max-length", int64_t{2}}}, 10);
  EXPECT_EQ(policy_of(*q), "narrow");
  EXPECT_EQ(q->args().max_length, 2);
  ASSERT_TRUE(vh.clear_policy("narrow"));
  EXPECT_EQ(policy_of(*q), "broad");
  EXPECT_EQ(q->args().max_length, 5);
  // Replacing a policy so that it no longer matches releases the queue.
  set("broad", "^nothing$", {{"max-length", int64_t{5}}}, 1);
  EXPECT_EQ(policy_of(*q), "");
  EXPECT_EQ(q->args().max_length, std::nullopt);
}

TEST_F(PolicyApplyTest, QuorumOnlyKeysSkipClassicQueues) {
  auto classic = declare("w.classic");
  auto quorum = declare_quorum("w.quorum");
  set("limit", "^w\\.", {{"delivery-limit", int64_t{1}}}, 5);
  set("len", "^w\\.", {{"max-length", int64_t{9}}}, 0);
  EXPECT_EQ(policy_of(*classic), "len");
  EXPECT_EQ(policy_of(*quorum), "limit");
  EXPECT_EQ(quorum->args().delivery_limit, 1);
}

TEST_F(PolicyApplyTest, AlternateExchangeFromPolicyAndItsPrecedence) {
  exchange("ae", "fanout");
  declare("unrouted");
  bind("unrouted", "ae", "");
  exchange("orders", "direct");
  exchange("own-ae", "fanout");
  exchange("pinned", "direct", {{"alternate-exchange", "own-ae"}});
  set("ae", "^(orders|pinned)$", {{"alternate-exchange", "ae"}}, 0, "exchanges");
  EXPECT_EQ(vh.find_exchange("orders")->alternate_exchange(), "ae");
  EXPECT_EQ(vh.find_exchange("pinned")->alternate_exchange(), "own-ae");
  EXPECT_EQ(publish("orders", "nowhere", "m").routed, 1u);
  EXPECT_EQ(vh.find_queue("unrouted")->message_count(), 1u);
  // An exchange declared later takes it too; queues do not (apply-to exchanges).
  exchange("orders-2", "topic");
  set("ae", "^orders", {{"alternate-exchange", "ae"}}, 0, "exchanges");
  EXPECT_EQ(vh.find_exchange("orders-2")->alternate_exchange(), "ae");
  EXPECT_EQ(vh.find_exchange("pinned")->policy(), nullptr);
  EXPECT_EQ(vh.find_queue("unrouted")->policy(), nullptr);
  ASSERT_TRUE(vh.clear_policy("ae"));
  EXPECT_EQ(vh.find_exchange("orders")->alternate_exchange(), std::nullopt);
}

TEST_F(PolicyApplyTest, DefaultExchangeNeverUsesAPolicyAlternateExchange) {
  exchange("ae", "fanout");
  declare("caught");
  bind("caught", "ae", "");
  set("all", ".*", {{"alternate-exchange", "ae"}}, 0, "exchanges");
  EXPECT_NE(vh.find_exchange("")->policy(), nullptr);
  EXPECT_EQ(vh.find_exchange("")->alternate_exchange(), std::nullopt);
  EXPECT_EQ(to_queue("no-such-queue", "m").routed, 0u);
  EXPECT_EQ(vh.find_exchange("amq.direct")->alternate_exchange(), "ae");
}

TEST_F(PolicyApplyTest, ObserverSeesChangesNotNoOpsOrRefusals) {
  PolicyLog log;
  broker.set_definitions_observer(&log);
  set("p", "^q", {{"max-length", int64_t{1}}});
  set("p", "^q", {{"max-length", int64_t{1}}});  // identical: nothing happens
  set("p", "^q", {{"max-length", int64_t{2}}});
  auto bad = vh.set_policy(PolicySpec{"p", "(", "all", 0, {{"max-length", int64_t{3}}}});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(vh.find_policy("p")->get("max-length")->as_int(), 2);  // unchanged
  EXPECT_TRUE(vh.clear_policy("p"));
  EXPECT_FALSE(vh.clear_policy("p"));
  broker.set_definitions_observer(nullptr);
  EXPECT_EQ(log.events, (Strings{"set p", "set p", "cleared p"}));
}

TEST_F(PolicyApplyTest, PoliciesAreListedByName) {
  set("b", "^b", {{"max-length", int64_t{1}}});
  set("a", "^a", {{"message-ttl", int64_t{1}}}, 3, "queues");
  Strings names;
  for (const auto& [n, p] : vh.policies()) names.push_back(n + "/" + apply_to_name(p->apply_to()));
  EXPECT_EQ(names, (Strings{"a/queues", "b/all"}));
  EXPECT_EQ(vh.find_policy("a")->priority(), 3);
  EXPECT_EQ(vh.find_policy("zzz"), nullptr);
}

}  // namespace
}  // namespace pulse::broker::testing
