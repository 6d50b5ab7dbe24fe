// The recovering Publisher against a real pulsed: confirms, envelope and properties, a broker
// killed with SIGKILL and restarted mid-stream, refusals, deadlines.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "pulse/envelope.h"
#include "pulse/publisher.h"
#include "recovery_broker.h"

namespace pulse {
namespace {

using std::chrono::milliseconds;
using testing::Broker;
using testing::Clock;
using testing::eventually;

// A durable topic exchange and a durable queue bound to it with `topic`.
void declare_bound_queue(const client::ConnectionOptions& o, const std::string& exchange,
                         const std::string& queue, const std::string& topic = "#",
                         const amqp::FieldTable& queue_args = {}) {
  auto c = client::Connection::open(o);
  ASSERT_TRUE(c.ok()) << c.error().text;
  client::Channel* ch = *(*c)->open_channel();
  client::ExchangeOptions eo;
  eo.durable = true;
  ASSERT_TRUE(ch->exchange_declare(exchange, "topic", eo).ok());
  client::QueueOptions qo;
  qo.durable = true;
  qo.arguments = queue_args;
  ASSERT_TRUE(ch->queue_declare(queue, qo).ok());
  ASSERT_TRUE(ch->queue_bind(queue, exchange, topic).ok());
  ASSERT_TRUE((*c)->close().ok());
}

struct PublisherLive : ::testing::Test {
  void SetUp() override { ASSERT_TRUE(broker.start()); }
  PublisherOptions options() {
    PublisherOptions o;
    o.recovery = broker.recovery();
    return o;
  }
  Broker broker;
};

TEST_F(PublisherLive, ConfirmedMessageCarriesEnvelopeAndProperties) {
  declare_bound_queue(broker.options(), "exchange/test/pub", "queue/test/all");
  declare_bound_queue(broker.options(), "exchange/test/pub", "queue/test/routed", "route.x.y");
  Publisher p(options());
  PublishOptions po;
  po.routes = {"x.y"};
  po.extra_meta = {{"master_name", "m1"}};
  ASSERT_TRUE(p.publish("exchange/test/pub", "build.linux.opt", {{"n", 1}}, po).ok());
  EXPECT_EQ(p.stats().confirmed, 1u);

  auto all = testing::drain(broker.options(), "queue/test/all");
  ASSERT_EQ(all.size(), 1u);
  const auto& m = all[0];
  EXPECT_EQ(m.routing_key, "build.linux.opt");
  EXPECT_EQ(m.properties.content_type, "application/json");
  EXPECT_EQ(m.properties.content_encoding, "utf-8");
  EXPECT_EQ(m.properties.delivery_mode, 2);
  auto env = parse_envelope(m.body);
  ASSERT_TRUE(env.ok());
  EXPECT_TRUE(env->wrapped);
  EXPECT_EQ(env->payload, nlohmann::json({{"n", 1}}));
  EXPECT_EQ(env->exchange(), "exchange/test/pub");
  EXPECT_EQ(env->routing_key(), "build.linux.opt");
  EXPECT_EQ(env->meta.value("master_name", ""), "m1");
  // The CC route reached the queue bound to route.x.y only.
  EXPECT_EQ(testing::drain(broker.options(), "queue/test/routed").size(), 1u);
}

TEST_F(PublisherLive, PipelinedSendsAllConfirmed) {
  declare_bound_queue(broker.options(), "exchange/test/bulk", "queue/test/bulk");
  Publisher p(options());
  uint64_t ok = 0, bad = 0;
  p.on_outcome([&](uint64_t, const Status& st) { (st.ok() ? ok : bad)++; });
  constexpr int kN = 2000;
  for (int i = 0; i < kN; ++i) {
    auto t = p.send("exchange/test/bulk", "k", "{\"i\": " + std::to_string(i) + "}", true);
    ASSERT_TRUE(t.ok()) << t.error().text;
  }
  ASSERT_TRUE(p.wait().ok());
  EXPECT_EQ(ok, uint64_t{kN});
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(p.stats().confirmed, uint64_t{kN});
  EXPECT_EQ(testing::drain(broker.options(), "queue/test/bulk").size(), size_t{kN});
}

// A refusal that comes during send() itself (its exchange's declaration: the exchange exists
// as a fanout) is told after send() returned the ticket, so the caller can match it.
TEST_F(PublisherLive, RefusalDuringSendIsToldAfterTheTicketIsKnown) {
  {
    auto c = client::Connection::open(broker.options());
    ASSERT_TRUE(c.ok()) << c.error().text;
    client::ExchangeOptions eo;
    eo.durable = true;
    ASSERT_TRUE((*(*c)->open_channel())->exchange_declare("exchange/test/fan", "fanout", eo).ok());
    ASSERT_TRUE((*c)->close().ok());
  }
  Publisher p(options());
  std::set<uint64_t> known;
  std::vector<std::pair<uint64_t, Status>> told;
  bool unknown_ticket = false;
  p.on_outcome([&](uint64_t t, const Status& st) {
    unknown_ticket = unknown_ticket || !known.count(t);
    told.emplace_back(t, st);
  });
  auto t = p.send("exchange/test/fan", "k", "{}", true);
  ASSERT_TRUE(t.ok()) << t.error().text;
  known.insert(*t);
  EXPECT_FALSE(p.wait().ok());
  EXPECT_FALSE(unknown_ticket);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].first, *t);
  ASSERT_FALSE(told[0].second.ok());
  EXPECT_EQ(told[0].second.error().code, 406);
}

// The handler of a tool refers to state that may end before the Publisher: the destructor
// tells no outcome (close() does).
TEST_F(PublisherLive, TheDestructorTellsNoOutcome) {
  declare_bound_queue(broker.options(), "exchange/test/gone", "queue/test/gone");
  int told = 0;
  {
    Publisher p(options());
    p.on_outcome([&](uint64_t, const Status&) { ++told; });
    ASSERT_TRUE(p.send("exchange/test/gone", "k", "{}", true).ok());
  }
  EXPECT_EQ(told, 0);
  Publisher q(options());
  q.on_outcome([&](uint64_t, const Status&) { ++told; });
  ASSERT_TRUE(q.send("exchange/test/gone", "k", "{}", true).ok());
  q.close();
  EXPECT_EQ(told, 1);
}

// The broker is killed and restarted on the same port while messages flow: every publish that
// returned OK is in the durable queue afterwards.
TEST_F(PublisherLive, BrokerKilledAndRestartedLosesNoConfirmedMessage) {
  if (broker.external()) GTEST_SKIP() << "kills the broker";
  declare_bound_queue(broker.options(), "exchange/test/kill", "queue/test/kill");
  PublisherOptions o = options();
  std::atomic<int> disconnects{0}, recoveries{0};
  o.recovery.on_disconnected = [&](const Error&) { ++disconnects; };
  o.recovery.on_recovered = [&](const client::ConnectionOptions&) { ++recoveries; };
  Publisher p(o);
  std::atomic<int> confirmed{0};
  std::atomic<bool> restarted{false}, restart_ok{false};
  std::thread killer([&] {
    eventually([&] { return confirmed.load() >= 100; });
    broker.kill9();
    std::this_thread::sleep_for(milliseconds(300));
    restart_ok = broker.start();
    restarted = true;
  });
  std::set<int> ok;
  int failed = 0, after_restart = 0;
  for (int i = 0; i < 20000 && after_restart < 100; ++i) {
    const bool was_restarted = restarted;
    Status st = p.publish("exchange/test/kill", "k", {{"i", i}});
    if (st.ok()) {
      ok.insert(i);
      ++confirmed;
      if (was_restarted) ++after_restart;
    } else {
      ++failed;
    }
  }
  killer.join();
  ASSERT_TRUE(restart_ok);
  EXPECT_GE(disconnects.load(), 1);
  EXPECT_GE(recoveries.load(), 1);
  EXPECT_GE(p.stats().reconnects, 1u);
  std::set<int> in_queue;
  for (const auto& m : testing::drain(broker.options(), "queue/test/kill")) {
    auto env = parse_envelope(m.body);
    ASSERT_TRUE(env.ok());
    in_queue.insert(env->payload.at("i").get<int>());
  }
  for (int i : ok) EXPECT_TRUE(in_queue.count(i)) << "confirmed message " << i << " was lost";
  EXPECT_EQ(failed, 0);  // the restart is much shorter than the 12 s deadline
}

TEST_F(PublisherLive, ForcedCloseThroughTheManagementApiIsRecovered) {
  declare_bound_queue(broker.options(), "exchange/test/forced", "queue/test/forced");
  PublisherOptions o = options();
  std::vector<Error> losses;
  o.recovery.on_disconnected = [&](const Error& e) { losses.push_back(e); };
  Publisher p(o);
  ASSERT_TRUE(p.publish("exchange/test/forced", "k", {{"n", 1}}).ok());
  ASSERT_TRUE(
      testing::eventually([&] { return broker.force_close_provided("pulse publisher") == 1; }));
  ASSERT_TRUE(p.publish("exchange/test/forced", "k", {{"n", 2}}).ok());
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].code, 320);
  EXPECT_EQ(p.stats().reconnects, 1u);
  EXPECT_EQ(testing::drain(broker.options(), "queue/test/forced").size(), 2u);
}

// A full queue with overflow reject-publish nacks: the message is sent again (after a short
// pause) until there is room, within its deadline.
TEST_F(PublisherLive, NackedMessageIsRetriedUntilAccepted) {
  declare_bound_queue(broker.options(), "exchange/test/full", "queue/test/full", "#",
                      {{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish"}});
  Publisher p(options());
  ASSERT_TRUE(p.publish("exchange/test/full", "k", {{"n", 0}}).ok());
  std::thread reader([&] {
    std::this_thread::sleep_for(milliseconds(500));  // a few nacks happen meanwhile
    EXPECT_EQ(testing::drain(broker.options(), "queue/test/full").size(), 1u);
  });
  Status st = p.publish("exchange/test/full", "k", {{"n", 1}});
  reader.join();
  ASSERT_TRUE(st.ok()) << st.error().text;
  EXPECT_GE(p.stats().republished, 1u);
  auto left = testing::drain(broker.options(), "queue/test/full");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(parse_envelope(left[0].body)->payload, nlohmann::json({{"n", 1}}));
}

TEST_F(PublisherLive, NackedUntilTheDeadlineFails) {
  declare_bound_queue(broker.options(), "exchange/test/full", "queue/test/full", "#",
                      {{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish"}});
  PublisherOptions o = options();
  o.deadline = milliseconds(1000);
  Publisher p(o);
  ASSERT_TRUE(p.publish("exchange/test/full", "k", {{"n", 0}}).ok());
  Status st = p.publish("exchange/test/full", "k", {{"n", 1}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().text, "not confirmed within 1000 ms: the broker nacked the message");
}

// connection.blocked (a memory alarm) that lasts longer than blocked_timeout counts as a lost
// connection: the publisher reconnects (another node could take the message) and sends again.
TEST(PublisherBlocked, BlockedLongerThanTheTimeoutIsALostConnection) {
  Broker broker;
  if (broker.external()) GTEST_SKIP() << "configures the broker";
  ASSERT_TRUE(broker.start("vm_memory_high_watermark.absolute = 1000000\n"));  // alarm at once
  PublisherOptions o;
  o.recovery = broker.recovery();
  o.recovery.blocked_timeout = milliseconds(500);
  std::vector<std::string> losses;
  o.recovery.on_disconnected = [&](const Error& e) { losses.push_back(e.text); };
  o.deadline = milliseconds(2500);
  Publisher p(o);
  // The broker blocks a connection once it publishes. pulsed confirms that first publish,
  // RabbitMQ holds it: either way the publisher gives a blocked connection up after 500 ms
  // instead of waiting on it, and a message that is not confirmed fails saying why.
  const Status first = p.publish("exchange/test/blocked", "k", {{"n", 1}});
  const Status second = p.publish("exchange/test/blocked", "k", {{"n", 2}});
  ASSERT_GE(losses.size(), 1u);
  EXPECT_EQ(losses[0], "connection blocked by the broker for longer than 500 ms (low on memory)");
  EXPECT_GE(p.stats().reconnects, 1u);
  for (const Status* st : {&first, &second}) {
    if (!st->ok()) {
      EXPECT_EQ(st->error().text, "not confirmed within 2500 ms: " + losses.back());
    }
  }
}

TEST_F(PublisherLive, MissingExchangeFailsAtOnceAndThePublisherGoesOn) {
  PublisherOptions o = options();
  o.declare_exchanges = false;
  Publisher p(o);
  const auto start = Clock::now();
  Status st = p.publish("exchange/test/missing", "k", {{"a", 1}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 404);
  EXPECT_EQ(st.error().text, "NOT_FOUND - no exchange 'exchange/test/missing' in vhost '" +
                                 broker.options().vhost + "'");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(6));  // not after the 12 s deadline
  EXPECT_TRUE(p.publish("amq.topic", "k", {{"a", 2}}).ok());
  EXPECT_EQ(p.stats().failed, 1u);
  EXPECT_EQ(p.stats().confirmed, 1u);
}

// An exchange the publisher declared and someone deleted since is declared again.
TEST_F(PublisherLive, DeletedExchangeIsDeclaredAgain) {
  Publisher p(options());
  ASSERT_TRUE(p.publish("exchange/test/gone", "k", {{"n", 1}}).ok());
  auto c = client::Connection::open(broker.options());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*(*c)->open_channel())->exchange_delete("exchange/test/gone").ok());
  Status st = p.publish("exchange/test/gone", "k", {{"n", 2}});
  ASSERT_TRUE(st.ok()) << st.error().text;
  EXPECT_EQ(p.stats().failed, 0u);
  EXPECT_EQ(p.stats().reconnects, 0u);  // a new channel was enough
  auto passive = client::ExchangeOptions{};
  passive.passive = true;
  EXPECT_TRUE(
      (*(*c)->open_channel())->exchange_declare("exchange/test/gone", "topic", passive).ok());
}

TEST_F(PublisherLive, ExchangeOfAnotherTypeIsRefused) {
  auto c = client::Connection::open(broker.options());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*(*c)->open_channel())->exchange_declare("exchange/test/direct", "direct").ok());
  Publisher p(options());
  Status st = p.publish("exchange/test/direct", "k", {{"a", 1}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 406);
  EXPECT_TRUE(p.publish("exchange/test/fine", "k", {{"a", 2}}).ok());
}

TEST_F(PublisherLive, InvalidRoutingKeyIsRefusedBeforeSending) {
  Publisher p(options());
  Status st = p.publish("exchange/test/pub", "a..b", {{"a", 1}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().text.find("'..'"), std::string::npos) << st.error().text;
  EXPECT_EQ(p.stats().published, 0u);
}

TEST_F(PublisherLive, WrongPasswordFailsAtOnce) {
  PublisherOptions o = options();
  o.recovery.endpoints[0].password = "wrong";
  Publisher p(o);
  const auto start = Clock::now();
  Status st = p.publish("exchange/test/pub", "k", {{"a", 1}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 403);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(6));
}

TEST_F(PublisherLive, DeadlinePassesWhileTheBrokerIsDown) {
  if (broker.external()) GTEST_SKIP() << "stops the broker";
  broker.stop();
  PublisherOptions o = options();
  o.deadline = milliseconds(1000);
  Publisher p(o);
  const auto start = Clock::now();
  Status st = p.publish("exchange/test/pub", "k", {{"a", 1}});
  const auto took = Clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().text.find("not confirmed within 1000 ms"), std::string::npos)
      << st.error().text;
  EXPECT_GE(took, milliseconds(1000));
  EXPECT_LT(took, std::chrono::seconds(8));
  EXPECT_EQ(p.stats().failed, 1u);
}

}  // namespace
}  // namespace pulse
