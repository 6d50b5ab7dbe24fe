// The Consumer's manual_ack mode against a real pulsed: the handler's OK does not ack; ack(ref)
// settles one delivery, requeue(ref) hands it back; a ref from a lost connection is refused
// (the broker redelivers that message to the recovered consumer).
#include <gtest/gtest.h>

#include <algorithm>

#include "pulse/consumer.h"
#include "pulse/publisher.h"
#include "recovery_broker.h"

namespace pulse {
namespace {

using std::chrono::milliseconds;
using testing::Broker;
using testing::Clock;

constexpr const char* kManualExchange = "exchange/test/manual";

struct ManualAck : ::testing::Test {
  void SetUp() override {
    ASSERT_TRUE(broker.start());
    PublisherOptions po;
    po.recovery = broker.recovery();
    pub = std::make_unique<Publisher>(po);
    // Declares the exchange (the consumer's is passive); no queue is bound yet.
    ASSERT_TRUE(pub->publish(kManualExchange, "k", {{"n", 0}}).ok());
  }
  ConsumerOptions options() {
    ConsumerOptions o;
    o.recovery = broker.recovery();
    o.recovery.on_recovered = [this](const client::ConnectionOptions&) { ++recoveries; };
    o.bindings = {{kManualExchange, "#"}};
    o.applabel = "manual";
    o.durable = true;
    o.manual_ack = true;
    return o;
  }
  MessageHandler collect() {
    return [this](const Received& r) {
      got.push_back(r.envelope ? r.envelope->payload.value("n", -1) : -1);
      refs.push_back(r.ref);
      return Status();
    };
  }
  bool run_until(Consumer& c, const std::function<bool()>& cond) {
    const auto deadline = Clock::now() + milliseconds(20000);
    while (!cond()) {
      if (Clock::now() >= deadline) return false;
      if (!c.run_for(milliseconds(50)).ok()) return false;
    }
    return true;
  }
  Broker broker;
  std::unique_ptr<Publisher> pub;
  std::vector<int> got;
  std::vector<DeliveryRef> refs;
  int recoveries = 0;
};

TEST_F(ManualAck, OnlyAckedMessagesLeaveTheQueue) {
  std::string queue;
  {
    Consumer c(options(), collect());
    queue = c.queue_name();
    ASSERT_TRUE(c.run_for(milliseconds(100)).ok());  // declares the queue, binds
    for (int n : {1, 2, 3}) ASSERT_TRUE(pub->publish(kManualExchange, "k", {{"n", n}}).ok());
    ASSERT_TRUE(run_until(c, [&] { return got.size() >= 3; }));
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(c.stats().acked, 0u);
    ASSERT_TRUE(c.ack(refs[1]).ok());
    ASSERT_TRUE(c.requeue(refs[2]).ok());
    ASSERT_TRUE(run_until(c, [&] { return got.size() >= 4; }));  // 3 comes back at once
    EXPECT_EQ(got.back(), 3);
    EXPECT_EQ(c.stats().acked, 1u);
  }
  // Closed with 1 and 3 unacked: both are still in the queue, 2 is gone.
  std::vector<int> left;
  for (const auto& m : testing::drain(broker.options(), queue)) {
    left.push_back(nlohmann::json::parse(m.body)["payload"].value("n", -1));
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<int>{1, 3}));
}

TEST_F(ManualAck, ARefFromALostConnectionIsRefusedAndTheMessageComesAgain) {
  Consumer c(options(), collect());
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  ASSERT_TRUE(pub->publish(kManualExchange, "k", {{"n", 7}}).ok());
  ASSERT_TRUE(run_until(c, [&] { return got.size() >= 1; }));
  ASSERT_TRUE(testing::eventually(
      [&] { return broker.force_close_provided("pulse consumer " + c.queue_name()) == 1; }));
  ASSERT_TRUE(run_until(c, [&] { return recoveries >= 1 && got.size() >= 2; }));
  EXPECT_EQ(got, (std::vector<int>{7, 7}));
  EXPECT_FALSE(c.ack(refs[0]).ok());
  ASSERT_TRUE(c.ack(refs[1]).ok());
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  EXPECT_TRUE(testing::drain(broker.options(), c.queue_name()).empty());
}

// A tool's handler refers to state that ends before the Consumer (pulse-logparser's loop did):
// a message redelivered while the destructor closes the connection goes back unseen.
TEST_F(ManualAck, TheHandlerIsNotCalledWhileTheConsumerIsDestroyed) {
  std::string queue;
  size_t seen = 0;
  {
    Consumer c(options(), collect());
    queue = c.queue_name();
    ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
    ASSERT_TRUE(pub->publish(kManualExchange, "k", {{"n", 5}}).ok());
    ASSERT_TRUE(run_until(c, [&] { return got.size() >= 1; }));
    // The broker redelivers at once; the copy arrives while the destructor waits for close-ok.
    ASSERT_TRUE(c.requeue(refs[0]).ok());
    seen = got.size();
  }
  EXPECT_EQ(got.size(), seen);
  const auto left = testing::drain(broker.options(), queue);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(left[0].body)["payload"].value("n", -1), 5);
}

}  // namespace
}  // namespace pulse
