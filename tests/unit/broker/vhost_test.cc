// VHost routing and resource semantics: exchange types, exchange-to-exchange chains, alternate
// exchanges, CC/BCC, mandatory (PublishOutcome.routed), auto-delete exchanges and exclusive
// queues. Error texts are in vhost_errors_test.cc.
#include <gtest/gtest.h>

#include "amqp/generated/constants.h"
#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

using Strings = std::vector<std::string>;

class VHostTest : public BrokerTest {
 protected:
  // Names of the queues holding at least one message, draining them (sorted).
  Strings receivers() {
    Strings out;
    for (const auto& [name, q] : vh.queues()) {
      if (q->message_count() > 0) out.push_back(name);
      q->purge();
    }
    return out;
  }
};

// --- exchange types ------------------------------------------------------------------------

struct Bind {
  std::string queue, key;
  FieldTable args;
};

struct RouteCase {
  const char* name;
  const char* type;
  std::vector<Bind> binds;
  std::string key;
  FieldTable headers;  // message headers; none when empty
  Strings expected;
};

class ExchangeTypeRouting : public VHostTest, public ::testing::WithParamInterface<RouteCase> {};

TEST_P(ExchangeTypeRouting, RoutesToMatchingBindings) {
  const auto& c = GetParam();
  exchange("x", c.type);
  for (const auto& b : c.binds) {
    if (!vh.find_queue(b.queue)) declare(b.queue);
    bind(b.queue, "x", b.key, b.args);
  }
  auto props = c.headers.empty() ? amqp::BasicProperties{} : with_headers(c.headers);
  PublishOutcome o = publish("x", c.key, "m", props);
  EXPECT_EQ(o.routed, c.expected.size());
  EXPECT_EQ(receivers(), c.expected);
}

const FieldValue kAll{std::string("all")};
const FieldValue kAny{std::string("any")};

INSTANTIATE_TEST_SUITE_P(
    Types, ExchangeTypeRouting,
    ::testing::Values(
        RouteCase{"direct_exact", "direct", {{"q1", "a", {}}, {"q2", "b", {}}}, "a", {}, {"q1"}},
        RouteCase{"direct_no_match", "direct", {{"q1", "a", {}}}, "A", {}, {}},
        RouteCase{"direct_same_key_two_queues",
                  "direct",
                  {{"q1", "a", {}}, {"q2", "a", {}}},
                  "a",
                  {},
                  {"q1", "q2"}},
        RouteCase{"direct_queue_bound_twice_gets_one_copy",
                  "direct",
                  {{"q1", "a", {}}, {"q1", "b", {}}},
                  "a",
                  {},
                  {"q1"}},
        RouteCase{"fanout_ignores_key",
                  "fanout",
                  {{"q1", "a", {}}, {"q2", "zzz", {}}},
                  "other",
                  {},
                  {"q1", "q2"}},
        RouteCase{"topic_star_one_word", "topic", {{"q1", "a.*", {}}}, "a.b", {}, {"q1"}},
        RouteCase{"topic_star_not_two_words", "topic", {{"q1", "a.*", {}}}, "a.b.c", {}, {}},
        RouteCase{"topic_hash_zero_words", "topic", {{"q1", "a.#", {}}}, "a", {}, {"q1"}},
        RouteCase{"topic_hash_many_words",
                  "topic",
                  {{"q1", "#.c", {}}, {"q2", "a.#.d", {}}},
                  "a.b.c",
                  {},
                  {"q1"}},
        RouteCase{"topic_hash_matches_empty_key", "topic", {{"q1", "#", {}}}, "", {}, {"q1"}},
        RouteCase{"headers_all_match",
                  "headers",
                  {{"q1", "", {{"x-match", kAll}, {"a", int32_t{1}}, {"b", "x"}}}},
                  "ignored",
                  {{"a", int64_t{1}}, {"b", "x"}, {"c", true}},
                  {"q1"}},
        RouteCase{"headers_all_missing_one",
                  "headers",
                  {{"q1", "", {{"x-match", kAll}, {"a", int32_t{1}}, {"b", "x"}}}},
                  "",
                  {{"a", int32_t{1}}},
                  {}},
        RouteCase{"headers_any_one_matches",
                  "headers",
                  {{"q1", "", {{"x-match", kAny}, {"a", int32_t{1}}, {"b", "x"}}}},
                  "",
                  {{"b", "x"}},
                  {"q1"}},
        RouteCase{"headers_default_is_all",
                  "headers",
                  {{"q1", "", {{"a", int32_t{1}}, {"b", "x"}}}},
                  "",
                  {{"a", int32_t{1}}},
                  {}}),
    [](const auto& info) { return std::string(info.param.name); });

// --- default exchange, exchange chains, alternate exchanges, CC/BCC ------------------------

TEST_F(VHostTest, DefaultExchangeRoutesByQueueName) {
  declare("q1");
  EXPECT_EQ(to_queue("q1", "m").routed, 1u);
  // Unroutable (a mandatory publish gets basic.return): routed == 0.
  EXPECT_EQ(to_queue("missing", "m").routed, 0u);
  EXPECT_EQ(receivers(), (Strings{"q1"}));
}

TEST_F(VHostTest, ExchangeChainWithCycleDeliversOncePerQueue) {
  for (const char* x : {"x1", "x2", "x3"}) exchange(x, "fanout");
  ASSERT_TRUE(vh.bind_exchange("x2", "x1", "", {}).ok());
  ASSERT_TRUE(vh.bind_exchange("x3", "x2", "", {}).ok());
  ASSERT_TRUE(vh.bind_exchange("x1", "x3", "", {}).ok());
  declare("q2");
  declare("q3");
  bind("q2", "x2", "");
  bind("q3", "x3", "");
  bind("q3", "x1", "");
  EXPECT_EQ(publish("x1", "k", "m").routed, 2u);
  EXPECT_EQ(vh.find_queue("q2")->message_count(), 1u);
  EXPECT_EQ(vh.find_queue("q3")->message_count(), 1u);
}

TEST_F(VHostTest, ExchangeBindingUsesRoutingKey) {
  exchange("src", "topic");
  exchange("dst", "fanout");
  ASSERT_TRUE(vh.bind_exchange("dst", "src", "logs.#", {}).ok());
  declare("q");
  bind("q", "dst", "");
  EXPECT_EQ(publish("src", "metrics.cpu", "m").routed, 0u);
  EXPECT_EQ(publish("src", "logs.app", "m").routed, 1u);
}

TEST_F(VHostTest, AlternateExchangeTakesUnroutedMessages) {
  exchange("ae", "fanout");
  exchange("x", "direct", {{"alternate-exchange", "ae"}});
  declare("q_x");
  declare("q_ae");
  bind("q_x", "x", "k");
  bind("q_ae", "ae", "");
  EXPECT_EQ(publish("x", "k", "m").routed, 1u);
  EXPECT_EQ(receivers(), (Strings{"q_x"}));
  EXPECT_EQ(publish("x", "other", "m").routed, 1u);  // routed via the AE: no basic.return
  EXPECT_EQ(receivers(), (Strings{"q_ae"}));
  exchange("y", "direct", {{"alternate-exchange", "missing"}});
  EXPECT_EQ(publish("y", "k", "m").routed, 0u);
}

TEST_F(VHostTest, CcAndBccRouteAndBccIsStripped) {
  for (const char* q : {"q1", "q2", "q3"}) declare(q);
  auto props = with_headers({{"CC", FieldArray{FieldValue("q2")}},
                             {"BCC", FieldArray{FieldValue("q3")}},
                             {"keep", int32_t{7}}});
  EXPECT_EQ(to_queue("q1", "m", props).routed, 3u);
  for (const char* name : {"q1", "q2", "q3"}) {
    auto m = vh.find_queue(name)->get(true);
    ASSERT_TRUE(m) << name;
    EXPECT_EQ(m->msg->routing_key, "q1");
    const auto& h = m->msg->properties().headers;
    EXPECT_EQ(amqp::find(h, "BCC"), nullptr) << name;
    ASSERT_NE(amqp::find(h, "CC"), nullptr) << name;
    ASSERT_NE(amqp::find(h, "keep"), nullptr) << name;
    EXPECT_EQ(decode_raw(*m->msg), m->msg->properties()) << name;
  }
}

TEST_F(VHostTest, BccOnlyRecipientsCount) {
  declare("q3");
  EXPECT_EQ(to_queue("nobody", "m", with_headers({{"BCC", FieldArray{FieldValue("q3")}}})).routed,
            1u);
}

TEST_F(VHostTest, InternalExchangeReachableOnlyThroughBindings) {
  exchange("int", "fanout", {}, false, /*internal=*/true);
  exchange("front", "fanout");
  ASSERT_TRUE(vh.bind_exchange("int", "front", "", {}).ok());
  declare("q");
  bind("q", "int", "");
  // Publishing to it directly is refused by the publish operation (operations_test.cc).
  EXPECT_EQ(publish("front", "", "m").routed, 1u);
  EXPECT_EQ(drain(*vh.find_queue("q")), (std::vector<std::string>{"m"}));
}

TEST_F(VHostTest, ServerNamedQueue) {
  auto q = declare("");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->name().starts_with("amq.gen-"));
  EXPECT_EQ(q->name().size(), 8u + 22u);
  EXPECT_EQ(vh.find_queue(q->name()), q);
}

// --- lifetimes -----------------------------------------------------------------------------

TEST_F(VHostTest, AutoDeleteExchangeGoesWithLastBinding) {
  exchange("never", "fanout", {}, /*auto_delete=*/true);
  exchange("ad", "direct", {}, /*auto_delete=*/true);
  declare("q");
  bind("q", "ad", "a");
  bind("q", "ad", "b");
  ASSERT_TRUE(vh.unbind_queue("q", "ad", "a", {}, kConn).ok());
  EXPECT_NE(vh.find_exchange("ad"), nullptr);
  ASSERT_TRUE(vh.unbind_queue("q", "ad", "b", {}, kConn).ok());
  EXPECT_EQ(vh.find_exchange("ad"), nullptr);
  EXPECT_NE(vh.find_exchange("never"), nullptr);  // never had a binding
}

TEST_F(VHostTest, AutoDeleteExchangeGoesWhenBoundQueueOrExchangeDeleted) {
  exchange("ad1", "fanout", {}, true);
  exchange("ad2", "fanout", {}, true);
  exchange("dest", "fanout");
  declare("q");
  bind("q", "ad1", "");
  ASSERT_TRUE(vh.bind_exchange("dest", "ad2", "", {}).ok());
  ASSERT_TRUE(vh.delete_queue("q", false, false, kConn).ok());
  EXPECT_EQ(vh.find_exchange("ad1"), nullptr);
  ASSERT_TRUE(vh.delete_exchange("dest", false).ok());
  EXPECT_EQ(vh.find_exchange("ad2"), nullptr);
}

TEST_F(VHostTest, ExclusiveQueuesGoWithTheirConnection) {
  auto make_excl = [&](const std::string& name, uint64_t conn) {
    QueueDeclare d;
    d.name = name;
    d.exclusive = true;
    d.connection_id = conn;
    auto r = vh.declare_queue(d);
    EXPECT_TRUE(r.ok());
    return *r;
  };
  auto mine = make_excl("mine", 7);
  make_excl("theirs", 8);
  declare("shared");
  ASSERT_TRUE(vh.bind_queue("mine", "amq.fanout", "", {}, 7).ok());
  FakeSink& sink = new_sink();
  consume(*mine, sink, "c", 0, false, 7);
  broker.connection_closed(7);
  EXPECT_EQ(vh.find_queue("mine"), nullptr);
  EXPECT_TRUE(mine->deleted());
  EXPECT_EQ(sink.cancelled, (Strings{"c"}));
  EXPECT_NE(vh.find_queue("theirs"), nullptr);
  EXPECT_NE(vh.find_queue("shared"), nullptr);
  EXPECT_EQ(publish("amq.fanout", "", "m").routed, 0u);  // its binding is gone too
}

TEST_F(VHostTest, ExclusiveQueueUsableByOwner) {
  QueueDeclare d;
  d.name = "excl";
  d.exclusive = true;
  d.connection_id = 7;
  ASSERT_TRUE(vh.declare_queue(d).ok());
  EXPECT_TRUE(vh.declare_queue(d).ok());
  EXPECT_TRUE(vh.lookup_queue("excl", 7).ok());
  EXPECT_TRUE(vh.bind_queue("excl", "amq.direct", "k", {}, 7).ok());
}

}  // namespace
}  // namespace pulse::broker::testing
