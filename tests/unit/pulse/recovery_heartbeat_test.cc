// A network path that goes silent (no FIN, no RST) is only noticed by missed heartbeats: the
// Consumer and the Publisher must not hang on it but reconnect.
#include <gtest/gtest.h>

#include <thread>

#include "pulse/consumer.h"
#include "pulse/publisher.h"
#include "recovery_broker.h"
#include "recovery_proxy.h"

namespace pulse {
namespace {

using std::chrono::milliseconds;
using testing::Broker;
using testing::Clock;
using testing::StallProxy;

constexpr const char* kExchange = "exchange/test/hb";

struct Heartbeats : ::testing::Test {
  void SetUp() override {
    ASSERT_TRUE(broker.start());
    proxy = std::make_unique<StallProxy>(broker.amqp_port());
  }
  // Through the proxy, with 1 s heartbeats: a silent path is declared dead after 2 s.
  RecoveryOptions via_proxy() {
    RecoveryOptions r = broker.recovery();
    r.endpoints[0].port = proxy->port();
    r.endpoints[0].heartbeat = 1;
    r.on_disconnected = [this](const Error& e) { losses.push_back(e.text); };
    return r;
  }
  Broker broker;
  std::unique_ptr<StallProxy> proxy;
  std::vector<std::string> losses;
};

TEST_F(Heartbeats, ConsumerOnASilentPathReconnects) {
  PublisherOptions po;
  po.recovery = broker.recovery();  // directly to the broker
  Publisher pub(po);
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 0}}).ok());  // creates the exchange

  ConsumerOptions o;
  o.recovery = via_proxy();
  o.bindings = {{kExchange, "#"}};
  o.applabel = "hb";
  o.durable = true;
  std::vector<int> got;
  Consumer c(o, [&](const Received& r) {
    got.push_back(r.envelope->payload.value("n", -1));
    return Status();
  });
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 1}}).ok());
  const auto run_until = [&](const std::function<bool()>& cond) {
    const auto deadline = Clock::now() + milliseconds(20000);
    while (!cond() && Clock::now() < deadline) EXPECT_TRUE(c.run_for(milliseconds(50)).ok());
    return cond();
  };
  ASSERT_TRUE(run_until([&] { return got.size() >= 1; }));
  proxy->stall_existing();
  ASSERT_TRUE(run_until([&] { return c.stats().reconnects >= 1; }));
  ASSERT_GE(losses.size(), 1u);
  EXPECT_EQ(losses[0], "missed heartbeats from the server, timeout: 1s");
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 2}}).ok());
  ASSERT_TRUE(run_until([&] { return got.size() >= 2; }));
  EXPECT_EQ(got.back(), 2);
}

TEST_F(Heartbeats, PublisherOnASilentPathRepublishes) {
  PublisherOptions po;
  po.recovery = via_proxy();
  Publisher pub(po);
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 0}}).ok());
  proxy->stall_existing();
  const auto start = Clock::now();
  Status st = pub.publish(kExchange, "a", {{"n", 1}});
  ASSERT_TRUE(st.ok()) << st.error().text;
  EXPECT_GE(Clock::now() - start, milliseconds(1500));  // noticed by heartbeats, not sooner
  EXPECT_EQ(pub.stats().reconnects, 1u);
  EXPECT_EQ(pub.stats().republished, 1u);
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0], "missed heartbeats from the server, timeout: 1s");
}

// Closing on a silent path does not wait rpc_timeout (10 s here) for a close-ok that cannot come.
TEST_F(Heartbeats, ClosingOnASilentPathIsQuick) {
  PublisherOptions po;
  po.recovery = via_proxy();
  po.recovery.endpoints[0].heartbeat = 0;  // nothing notices the stall by itself
  auto pub = std::make_unique<Publisher>(po);
  ASSERT_TRUE(pub->publish(kExchange, "a", {{"n", 0}}).ok());
  proxy->stall_existing();
  const auto start = Clock::now();
  pub.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
}

// An idle publisher that polls keeps its connection: heartbeats go out and the broker keeps
// it. One that neither publishes nor polls is dropped by the broker and recovers on next use.
TEST_F(Heartbeats, PollingKeepsAnIdlePublisherConnected) {
  PublisherOptions po;
  po.recovery = broker.recovery();
  po.recovery.endpoints[0].heartbeat = 1;
  po.recovery.on_disconnected = [this](const Error& e) { losses.push_back(e.text); };
  Publisher pub(po);
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 0}}).ok());
  const auto idle_until = Clock::now() + milliseconds(3500);
  while (Clock::now() < idle_until) pub.poll(milliseconds(200));
  EXPECT_TRUE(losses.empty()) << losses[0];
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 1}}).ok());
  EXPECT_EQ(pub.stats().reconnects, 0u);

  std::this_thread::sleep_for(milliseconds(3500));  // silent: the broker gives up on us
  ASSERT_TRUE(pub.publish(kExchange, "a", {{"n", 2}}).ok());
  EXPECT_EQ(pub.stats().reconnects, 1u);
  EXPECT_EQ(losses.size(), 1u);
}

TEST_F(Heartbeats, PollDeliversOutcomesWithoutWait) {
  PublisherOptions po;
  po.recovery = broker.recovery();
  Publisher pub(po);
  std::vector<uint64_t> confirmed;
  pub.on_outcome([&](uint64_t ticket, const Status& st) {
    EXPECT_TRUE(st.ok());
    confirmed.push_back(ticket);
  });
  auto t = pub.send(kExchange, "a", "{}", true);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(testing::eventually([&] {
    pub.poll(milliseconds(50));
    return !confirmed.empty();
  }));
  EXPECT_EQ(confirmed, std::vector<uint64_t>{*t});
}

}  // namespace
}  // namespace pulse
