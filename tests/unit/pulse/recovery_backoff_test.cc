// Reconnecting never busy-loops: against a port that refuses at once, or a peer that accepts
// and hangs up at once, attempts follow the back-off schedule; stop() is honoured while waiting.
#include <poll.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pulse/consumer.h"
#include "pulse/publisher.h"
#include "recovery_broker.h"
#include "recovery_proxy.h"

namespace pulse {
namespace {

using std::chrono::milliseconds;
using testing::Clock;

// Accepts connections and closes them at once, counting them.
class HangUpPeer {
 public:
  HangUpPeer() {
    fd_ = testing::bind_loopback(&port_, 64);
    thread_ = std::thread([this] {
      while (!done_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) {
          ++accepted_;
          ::close(c);
        }
      }
    });
  }
  ~HangUpPeer() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

RecoveryOptions to_port(uint16_t port, std::atomic<int>* failures) {
  RecoveryOptions r;
  client::ConnectionOptions o;
  o.port = port;
  r.endpoints = {o};
  r.backoff.initial = milliseconds(100);
  r.backoff.max = milliseconds(30000);
  r.on_attempt_failed = [failures](const client::ConnectionOptions&, const Error&) { ++*failures; };
  return r;
}

ConsumerOptions consumer_to(uint16_t port, std::atomic<int>* failures) {
  ConsumerOptions o;
  o.recovery = to_port(port, failures);
  o.bindings = {{"exchange/test/x", "#"}};
  return o;
}

// Delays of 100, 200, 400, 800 ms (each with up to 50% jitter off): at most 1 + 4 attempts fit
// into 1.2 s (the fifth delay starts at 750 ms at the earliest and lasts 400 ms at least), and
// a busy loop would make thousands.
constexpr int kMaxAttemptsIn1200ms = 6;

TEST(RecoveryBackoff, RefusedPortIsRetriedWithBackoff) {
  const uint16_t port = testing::free_ports(1)[0];  // nothing listens there
  std::atomic<int> failures{0};
  Consumer c(consumer_to(port, &failures), [](const Received&) { return Status(); });
  const auto start = Clock::now();
  // Connection refused is not a refusal by a broker: run_for keeps trying until its timeout.
  ASSERT_TRUE(c.run_for(milliseconds(1200)).ok());
  EXPECT_GE(Clock::now() - start, milliseconds(1200));
  EXPECT_GE(failures.load(), 2);
  EXPECT_LE(failures.load(), kMaxAttemptsIn1200ms);
}

TEST(RecoveryBackoff, PeerThatHangsUpIsRetriedWithBackoff) {
  HangUpPeer peer;
  std::atomic<int> failures{0};
  Consumer c(consumer_to(peer.port(), &failures), [](const Received&) { return Status(); });
  ASSERT_TRUE(c.run_for(milliseconds(1200)).ok());
  EXPECT_GE(peer.accepted(), 2);
  EXPECT_LE(peer.accepted(), kMaxAttemptsIn1200ms);
  EXPECT_EQ(peer.accepted(), failures.load());
}

TEST(RecoveryBackoff, PublisherWaitsTheBackoffToo) {
  HangUpPeer peer;
  std::atomic<int> failures{0};
  PublisherOptions o;
  o.recovery = to_port(peer.port(), &failures);
  o.deadline = milliseconds(1200);
  Publisher p(o);
  Status st = p.publish("exchange/test/x", "k", {{"a", 1}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().text.find("not confirmed within 1200 ms"), std::string::npos)
      << st.error().text;
  EXPECT_GE(peer.accepted(), 2);
  EXPECT_LE(peer.accepted(), kMaxAttemptsIn1200ms);
}

TEST(RecoveryBackoff, IdlePollWaitsTheBackoff) {
  HangUpPeer peer;
  std::atomic<int> failures{0};
  PublisherOptions o;
  o.recovery = to_port(peer.port(), &failures);
  Publisher p(o);
  const auto start = Clock::now();
  p.poll(milliseconds(1200));
  EXPECT_GE(Clock::now() - start, milliseconds(1200));
  EXPECT_GE(peer.accepted(), 1);
  EXPECT_LE(peer.accepted(), kMaxAttemptsIn1200ms);
}

TEST(RecoveryBackoff, StopIsHonouredDuringALongBackoff) {
  const uint16_t port = testing::free_ports(1)[0];
  std::atomic<int> failures{0};
  ConsumerOptions o = consumer_to(port, &failures);
  o.recovery.backoff.initial = milliseconds(20000);  // the first retry waits 10-20 s
  Consumer c(o, [](const Received&) { return Status(); });
  std::atomic<bool> returned{false};
  std::thread t([&] {
    (void)c.run();
    returned = true;
  });
  ASSERT_TRUE(testing::eventually([&] { return failures.load() >= 1; }));
  const auto start = Clock::now();
  c.stop();
  ASSERT_TRUE(testing::eventually([&] { return returned.load(); }, milliseconds(5000)));
  t.join();
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(failures.load(), 1);
}

// A peer that accepts and never answers holds an attempt only for the handshake timeout.
TEST(RecoveryBackoff, SilentPeerIsGivenUpAfterTheHandshakeTimeout) {
  uint16_t port = 0;
  const int fd = testing::bind_loopback(&port, 16);  // nobody ever answers
  std::atomic<int> failures{0};
  ConsumerOptions o = consumer_to(port, &failures);
  o.recovery.endpoints[0].handshake_timeout = milliseconds(300);
  std::string why;
  o.recovery.on_attempt_failed = [&](const client::ConnectionOptions&, const Error& e) {
    ++failures;
    why = e.text;
  };
  Consumer c(o, [](const Received&) { return Status(); });
  ASSERT_TRUE(c.run_for(milliseconds(1500)).ok());
  EXPECT_GE(failures.load(), 2);
  EXPECT_NE(why.find("timed out waiting for connection.start"), std::string::npos) << why;
  ::close(fd);
}

// A path that lets every connection set up and then cuts it (150 ms later) must not be
// reconnected to at a fixed quick pace: short-lived connections keep the back-off growing.
// Without that, about 3000 / (150 + 75) = 13 connections would fit into 3 s; with delays of
// 100, 200, 400, 800 ms (minus jitter) at most 6.
TEST(RecoveryBackoff, FlappingConnectionsBackOffToo) {
  testing::Broker broker;
  ASSERT_TRUE(broker.start());
  {
    auto c = client::Connection::open(broker.options());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*(*c)->open_channel())->exchange_declare("exchange/test/x", "topic").ok());
  }
  testing::StallProxy proxy(broker.amqp_port());
  proxy.cut_after(milliseconds(150));
  std::atomic<int> failures{0};
  ConsumerOptions o = consumer_to(proxy.port(), &failures);
  int losses = 0;
  o.recovery.on_disconnected = [&](const Error&) { ++losses; };
  Consumer c(o, [](const Received&) { return Status(); });
  ASSERT_TRUE(c.run_for(milliseconds(3000)).ok());
  EXPECT_GE(losses, 2);  // it did connect, set up, and lose the connection repeatedly
  EXPECT_LE(proxy.accepted(), 7);
}

TEST(RecoveryBackoff, EndpointsAreTriedInTurn) {
  HangUpPeer a, b;
  std::atomic<int> failures{0};
  ConsumerOptions o = consumer_to(a.port(), &failures);
  client::ConnectionOptions second;
  second.port = b.port();
  o.recovery.endpoints.push_back(second);
  Consumer c(o, [](const Received&) { return Status(); });
  ASSERT_TRUE(c.run_for(milliseconds(800)).ok());
  EXPECT_GE(a.accepted(), 1);
  EXPECT_GE(b.accepted(), 1);
  EXPECT_LE(std::abs(a.accepted() - b.accepted()), 1);
}

}  // namespace
}  // namespace pulse
