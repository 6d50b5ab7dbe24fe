// The recovering Consumer against a real pulsed: delivery with the parsed envelope, recovery
// after a SIGKILL + restart and after a management-API force-close, bounded redelivery and
// giving up, and the refusals that end run() before the first start.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "pulse/consumer.h"
#include "pulse/publisher.h"
#include "recovery_broker.h"

namespace pulse {
namespace {

using std::chrono::milliseconds;
using testing::Broker;
using testing::Clock;

constexpr const char* kExchange = "exchange/test/events";

struct ConsumerLive : ::testing::Test {
  void SetUp() override {
    ASSERT_TRUE(broker.start());
    auto c = client::Connection::open(broker.options());
    ASSERT_TRUE(c.ok());
    client::ExchangeOptions eo;
    eo.durable = true;
    ASSERT_TRUE((*(*c)->open_channel())->exchange_declare(kExchange, "topic", eo).ok());
    ASSERT_TRUE((*c)->close().ok());
  }

  ConsumerOptions options() {
    ConsumerOptions o;
    o.recovery = broker.recovery();
    o.recovery.on_disconnected = [this](const Error& e) {
      ++disconnects;
      last_loss = e;
    };
    o.recovery.on_recovered = [this](const client::ConnectionOptions&) { ++recoveries; };
    o.bindings = {{kExchange, "build.#"}};
    return o;
  }
  MessageHandler collect() {
    return [this](const Received& r) {
      EXPECT_NE(r.envelope, nullptr) << r.parse_error;
      if (r.envelope) got.push_back(r.envelope->payload.value("n", -1));
      return Status();
    };
  }
  void publish(int n, const std::string& key = "build.linux") {
    ASSERT_TRUE(publisher().publish(kExchange, key, {{"n", n}}).ok());
  }
  Publisher& publisher() {
    if (!pub) {
      PublisherOptions po;
      po.recovery = broker.recovery();
      pub = std::make_unique<Publisher>(po);
    }
    return *pub;
  }
  // Runs the consumer in short slices until cond holds (or a generous limit passes).
  bool run_until(Consumer& c, const std::function<bool()>& cond,
                 milliseconds limit = milliseconds(20000)) {
    const auto deadline = Clock::now() + limit;
    while (!cond()) {
      if (Clock::now() >= deadline) return false;
      Status st = c.run_for(milliseconds(50));
      EXPECT_TRUE(st.ok()) << st.error().text;
      if (!st.ok()) return false;
    }
    return true;
  }

  // Publishes n and expects the (recovered) consumer to receive exactly that next.
  void expect_delivered(Consumer& c, int n) {
    got.clear();
    publish(n);
    ASSERT_TRUE(run_until(c, [&] { return got.size() >= 1; }));
    EXPECT_EQ(got, (std::vector<int>{n}));
  }

  Broker broker;
  std::unique_ptr<Publisher> pub;
  std::vector<int> got;
  int disconnects = 0, recoveries = 0;
  Error last_loss;
};

TEST_F(ConsumerLive, ReceivesMatchingMessagesAndAcksThem) {
  ConsumerOptions o = options();
  o.applabel = "reader";
  Consumer c(o, collect());
  EXPECT_EQ(c.queue_name(), "queue/guest/reader");
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());  // connected and consuming
  publish(1);
  publish(2, "test.linux");  // not bound
  publish(3, "build.mac.opt");
  ASSERT_TRUE(run_until(c, [&] { return got.size() >= 2; }));
  EXPECT_EQ(got, (std::vector<int>{1, 3}));
  EXPECT_EQ(c.stats().acked, 2u);
  EXPECT_TRUE(testing::drain(broker.options(), c.queue_name()).empty());  // all acked
}

TEST_F(ConsumerLive, RecoversAfterTheBrokerIsKilledAndRestarted) {
  if (broker.external()) GTEST_SKIP() << "kills the broker";
  ConsumerOptions o = options();
  o.applabel = "durable-reader";
  o.durable = true;
  Consumer c(o, collect());
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  publish(1);
  ASSERT_TRUE(run_until(c, [&] { return got.size() >= 1; }));
  broker.kill9();
  ASSERT_TRUE(c.run_for(milliseconds(300)).ok());  // notices the loss, retries meanwhile
  ASSERT_TRUE(broker.start());
  ASSERT_TRUE(run_until(c, [&] { return recoveries >= 1; }));
  EXPECT_GE(disconnects, 1);
  publish(2);
  publish(3);
  ASSERT_TRUE(run_until(c, [&] { return got.size() >= 3; }));
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(c.stats().reconnects, 1u);
}

TEST_F(ConsumerLive, RecoversAfterAForcedCloseThroughTheManagementApi) {
  Consumer c(options(), collect());
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  std::vector<std::string> names;
  ASSERT_TRUE(testing::eventually([&] {
    names = broker.connection_names();
    return names.size() == 1;  // the consumer's
  }));
  auto listed = broker.connections();
  EXPECT_EQ(listed.at(0).value("user_provided_name", ""), "pulse consumer " + c.queue_name());
  EXPECT_EQ(broker.force_close(names[0]), 204);
  ASSERT_TRUE(run_until(c, [&] { return recoveries >= 1; }));
  EXPECT_EQ(last_loss.code, 320);
  EXPECT_NE(last_loss.text.find("CONNECTION_FORCED"), std::string::npos) << last_loss.text;
  expect_delivered(c, 7);
}

// After the first start a refusal is retried too: the exchange is gone for a while (deleted,
// then the connection forced closed), the consumer keeps trying and comes back with it.
TEST_F(ConsumerLive, RefusalAfterTheFirstStartIsRetriedUntilItClears) {
  ConsumerOptions o = options();
  std::vector<uint16_t> refusals;
  o.recovery.on_attempt_failed = [&](const client::ConnectionOptions&, const Error& e) {
    refusals.push_back(e.code);
  };
  Consumer c(o, collect());
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  auto admin = client::Connection::open(broker.options());
  ASSERT_TRUE(admin.ok());
  client::Channel* ch = *(*admin)->open_channel();
  ASSERT_TRUE(ch->exchange_delete(kExchange).ok());
  ASSERT_TRUE(testing::eventually(
      [&] { return broker.force_close_provided("pulse consumer " + c.queue_name()) == 1; }));
  ASSERT_TRUE(run_until(c, [&] { return refusals.size() >= 2; }));
  EXPECT_EQ(refusals[0], 404);
  EXPECT_EQ(recoveries, 0);
  client::ExchangeOptions eo;
  eo.durable = true;
  ASSERT_TRUE(ch->exchange_declare(kExchange, "topic", eo).ok());
  ASSERT_TRUE(run_until(c, [&] { return recoveries >= 1; }));
  expect_delivered(c, 9);
}

TEST_F(ConsumerLive, RecoversWhenTheServerCancelsTheConsumer) {
  ConsumerOptions o = options();
  o.applabel = "cancelled";
  Consumer c(o, collect());
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  {  // deleting the queue cancels its consumers (consumer_cancel_notify)
    auto conn = client::Connection::open(broker.options());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*(*conn)->open_channel())->queue_delete(c.queue_name()).ok());
    ASSERT_TRUE((*conn)->close().ok());
  }
  ASSERT_TRUE(run_until(c, [&] { return recoveries >= 1; }));
  expect_delivered(c, 4);
}

// A channel error (here a handler that acks by itself, so the consumer's ack names an unknown
// delivery tag: 406) closes the channel: the consumer recovers on a new connection.
TEST_F(ConsumerLive, RecoversWhenTheServerClosesTheChannel) {
  bool ack_by_hand = true;
  Consumer c(options(), [&](const Received& r) {
    if (ack_by_hand) (void)r.raw.channel->ack(r.raw.delivery_tag);
    ack_by_hand = false;
    got.push_back(r.envelope->payload.value("n", -1));
    return Status();
  });
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  publish(1);
  ASSERT_TRUE(run_until(c, [&] { return recoveries >= 1; }));
  EXPECT_EQ(last_loss.code, 406);
  EXPECT_NE(last_loss.text.find("unknown delivery tag"), std::string::npos) << last_loss.text;
  expect_delivered(c, 2);
}

TEST_F(ConsumerLive, FailingHandlerIsRetriedThenLoggedAndAcked) {
  ConsumerOptions o = options();
  o.applabel = "flaky";
  o.max_attempts = 3;
  int bad_attempts = 0, flaky_attempts = 0;
  bool flaky_redelivered = false;
  Consumer c(o, [&](const Received& r) -> Status {
    const int n = r.envelope->payload.value("n", -1);
    if (n == 1) {
      ++bad_attempts;
      return Error{0, "cannot handle 1"};
    }
    if (n == 2 && ++flaky_attempts == 1) throw std::runtime_error("once");
    if (n == 2) flaky_redelivered = r.raw.redelivered;
    got.push_back(n);
    return {};
  });
  std::vector<std::string> given_up;
  c.on_give_up([&](const Received& r, const Error& e) {
    given_up.push_back(std::string(r.raw.routing_key) + ": " + e.text);
  });
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  publish(1, "build.bad");
  publish(2, "build.flaky");
  ASSERT_TRUE(run_until(c, [&] { return c.stats().given_up >= 1 && got.size() >= 1; }));
  EXPECT_EQ(bad_attempts, 3);
  EXPECT_EQ(flaky_attempts, 2);
  EXPECT_TRUE(flaky_redelivered);
  EXPECT_EQ(given_up, (std::vector<std::string>{"build.bad: cannot handle 1"}));
  EXPECT_EQ(c.stats().retried, 3u);  // two for 1, one for 2
  EXPECT_EQ(c.stats().acked, 1u);
  EXPECT_TRUE(testing::drain(broker.options(), c.queue_name()).empty());  // logged and acked
}

TEST_F(ConsumerLive, FailingHandlerIsDeadLetteredAfterMaxAttempts) {
  {
    auto conn = client::Connection::open(broker.options());
    ASSERT_TRUE(conn.ok());
    client::Channel* ch = *(*conn)->open_channel();
    ASSERT_TRUE(ch->exchange_declare("exchange/test/dlx", "topic").ok());
    ASSERT_TRUE(ch->queue_declare("queue/test/dead").ok());
    ASSERT_TRUE(ch->queue_bind("queue/test/dead", "exchange/test/dlx", "#").ok());
    ASSERT_TRUE((*conn)->close().ok());
  }
  ConsumerOptions o = options();
  o.applabel = "dl";
  o.max_attempts = 2;
  o.give_up = GiveUp::kDeadLetter;
  o.dead_letter_exchange = "exchange/test/dlx";
  int attempts = 0;
  Consumer c(o, [&](const Received&) -> Status {
    ++attempts;
    return Error{0, "no"};
  });
  ASSERT_TRUE(c.run_for(milliseconds(100)).ok());
  publish(5);
  ASSERT_TRUE(run_until(c, [&] { return c.stats().given_up >= 1; }));
  EXPECT_EQ(attempts, 2);
  std::vector<client::Message> dead;
  ASSERT_TRUE(testing::eventually([&] {
    for (auto& m : testing::drain(broker.options(), "queue/test/dead")) dead.push_back(m);
    return !dead.empty();
  }));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].routing_key, "build.linux");
}

TEST_F(ConsumerLive, DurableQueueWithoutApplabelIsAnError) {
  ConsumerOptions o = options();
  o.durable = true;
  Consumer c(o, collect());
  Status st = c.run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().text, "a durable consumer queue needs an applabel");
}

TEST_F(ConsumerLive, MissingExchangeAtFirstStartIsAnError) {
  ConsumerOptions o = options();
  o.bindings.push_back({"exchange/test/nowhere", "#"});
  Consumer c(o, collect());
  const auto start = Clock::now();
  Status st = c.run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 404);
  EXPECT_EQ(st.error().text, "NOT_FOUND - no exchange 'exchange/test/nowhere' in vhost '" +
                                 broker.options().vhost + "'");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

TEST_F(ConsumerLive, WrongPasswordAtFirstStartIsAnError) {
  ConsumerOptions o = options();
  o.recovery.endpoints[0].password = "wrong";
  Consumer c(o, collect());
  Status st = c.run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 403);
}

// pulse-listen --count N: stop() from the handler ends run() after exactly N messages; the
// rest of the read goes back to the queue, the handled ones are acked.
TEST_F(ConsumerLive, StopFromTheHandlerHandlesExactlyThatMany) {
  ConsumerOptions o = options();
  o.applabel = "counted";
  o.durable = true;
  int batches = 0;
  o.on_batch_end = [&] { ++batches; };
  for (int i = 0; i < 5; ++i) publish(i);  // unroutable until the queue exists
  {
    Consumer first(o, collect());
    ASSERT_TRUE(first.run_for(milliseconds(100)).ok());  // declares and binds the queue
  }
  got.clear();
  for (int i = 0; i < 5; ++i) publish(i);
  std::unique_ptr<Consumer> c;
  c = std::make_unique<Consumer>(o, [&](const Received& r) {
    got.push_back(r.envelope->payload.value("n", -1));
    if (got.size() == 2) c->stop();
    return Status();
  });
  ASSERT_TRUE(c->run().ok());
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  EXPECT_GE(batches, 1);
  EXPECT_EQ(c->stats().acked, 2u);
  c.reset();  // closes the connection: nothing is left unacked
  auto left = testing::drain(broker.options(), "queue/guest/counted");
  EXPECT_EQ(left.size(), 3u);
}

// Acks go out only after on_batch_end returned: a connection lost inside on_batch_end (here
// force-closed by the management API) leaves the batch unacked, so the broker redelivers it.
TEST_F(ConsumerLive, AcksFollowOnBatchEnd) {
  ConsumerOptions o = options();
  o.applabel = "batch";
  o.durable = true;
  {
    Consumer first(o, collect());
    ASSERT_TRUE(first.run_for(milliseconds(100)).ok());
  }
  for (int i = 0; i < 3; ++i) publish(i);
  std::vector<std::pair<int, bool>> seen;  // (n, redelivered)
  size_t first_batch = 0;                  // what the handler had seen when the cut came
  o.on_batch_end = [&] {
    if (first_batch > 0 || seen.empty()) return;
    first_batch = seen.size();
    EXPECT_TRUE(testing::eventually(
        [&] { return broker.force_close_provided("pulse consumer queue/guest/batch") == 1; }));
  };
  Consumer c(o, [&](const Received& r) {
    seen.emplace_back(r.envelope->payload.value("n", -1), r.raw.redelivered);
    return Status();
  });
  ASSERT_TRUE(run_until(c, [&] { return first_batch > 0 && seen.size() >= first_batch + 3; }));
  EXPECT_EQ(recoveries, 1);
  for (size_t i = 0; i < first_batch; ++i) {  // every message of the cut batch came again
    const int n = seen[i].first;
    EXPECT_TRUE(std::count(seen.begin() + first_batch, seen.end(), std::make_pair(n, true)))
        << "message " << n << " was acked before on_batch_end returned";
  }
}

TEST_F(ConsumerLive, StopFromAnotherThreadEndsRun) {
  Consumer c(options(), collect());
  std::atomic<bool> returned{false};
  Status st;
  std::thread t([&] {
    st = c.run();
    returned = true;
  });
  ASSERT_TRUE(testing::eventually([&] { return broker.connection_names().size() == 1; }));
  const auto start = Clock::now();
  c.stop();
  ASSERT_TRUE(testing::eventually([&] { return returned.load(); }, milliseconds(5000)));
  t.join();
  EXPECT_TRUE(st.ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
}  // namespace pulse
