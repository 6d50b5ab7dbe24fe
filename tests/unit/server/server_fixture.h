#pragma once
// In-process fixture for the server's channel logic: a Server with a Broker and an AuthStore on an
// io_context run by a background thread, listening on 127.0.0.1 port 0, driven by the project's
// synchronous client (src/client) from the test thread. The loop thread owns every piece of
// broker state, so tests look at it through the protocol (passive declares, basic.get) or through
// on_loop(), never directly.
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "auth/auth_store.h"
#include "base/log.h"
#include "broker/broker.h"
#include "client/channel.h"
#include "client/connection.h"
#include "server/server.h"

namespace pulse::server::testing {

using client::Channel;
using client::Connection;
using std::chrono::milliseconds;

// The restricted user: configure, write and read only on "alice.*" (write also on the default
// exchange), so refusals can be provoked on every other name.
inline constexpr const char* kAlice = "alice";
inline constexpr const char* kAlicePassword = "alice-secret1";

// r failed with exactly this reply code and text (RabbitMQ's, as tests/integration asserts them).
template <typename R>
::testing::AssertionResult failed_with(const R& r, uint16_t code, const std::string& text) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded; expected " << code << " " << text;
  if (r.error().code != code || r.error().text != text) {
    return ::testing::AssertionFailure() << "failed with " << r.error().code << " "
                                         << r.error().text << "; expected " << code << " " << text;
  }
  return ::testing::AssertionSuccess();
}

inline void ignore_delivery(const client::Delivery&) {}

template <typename T>
Status status_of(const Result<T>& r) {
  return r.ok() ? Status() : Status(r.error());
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_log_level("warning");  // connection open/close lines would drown the test output
    broker_.add_vhost("/");
    ASSERT_TRUE(auth_.add_user("guest", "guest", {"administrator"}));
    ASSERT_TRUE(auth_.set_permissions("guest", "/", ".*", ".*", ".*"));
    ASSERT_TRUE(auth_.add_user(kAlice, kAlicePassword, {}));
    ASSERT_TRUE(
        auth_.set_permissions(kAlice, "/", "^alice\\.", "^(alice\\.|amq\\.default$)", "^alice\\."));
    ServerOptions options;
    options.heartbeat = 0;  // no timers beyond what a test starts
    server_ = std::make_unique<Server>(io_, broker_, auth_, options);
    auto bound = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(bound.ok()) << bound.error().text;
    port_ = bound->port();
    loop_ = std::thread([this] {
      io_.run();
      loop_done_.set_value();
    });
    conn = connect();
    ASSERT_NE(conn, nullptr);
    ch = open_channel(*conn);
    ASSERT_NE(ch, nullptr);
  }

  void TearDown() override {
    for (auto& c : conns_) {
      if (c->is_open()) {
        EXPECT_TRUE(c->close());
      }
    }
    conns_.clear();
    if (!loop_.joinable()) return;
    // A connection the client closed must be gone from the server too, before the shutdown
    // force-closes whatever is left.
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(1000);
    while (server_connections() != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(1));
    EXPECT_EQ(server_connections(), 0u)
        << "connections left on the server after the clients closed";
    boost::asio::post(io_, [this] { server_->shutdown(); });
    // With every client gone and the listener closed the loop must run out of work by itself:
    // anything left (a connection that did not finish, a timer) is a leak.
    auto done = loop_done_.get_future();
    if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      ADD_FAILURE() << "the server's loop did not go idle after shutdown";
      io_.stop();
    }
    loop_.join();
    server_.reset();
  }

  // A new connection (owned by the fixture, closed in TearDown); nullptr after a test failure.
  Connection* connect(const std::string& user = "guest", const std::string& password = "guest") {
    client::ConnectionOptions o;
    o.port = port_;
    o.user = user;
    o.password = password;
    o.heartbeat = 0;
    o.connect_timeout = milliseconds(2000);
    o.rpc_timeout = milliseconds(2000);
    auto c = Connection::open(o);
    if (!c.ok()) {
      ADD_FAILURE() << "connect as " << user << ": " << c.error().text;
      return nullptr;
    }
    conns_.push_back(std::move(*c));
    return conns_.back().get();
  }

  static Channel* open_channel(Connection& c) {
    auto r = c.open_channel();
    if (!r.ok()) {
      ADD_FAILURE() << "open channel: " << r.error().text;
      return nullptr;
    }
    return *r;
  }

  // Runs f on the loop thread and returns its result (the only way to read broker state).
  template <typename F>
  auto on_loop(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  size_t server_connections() {
    return on_loop([this] { return server_->connection_count(); });
  }
  size_t server_channels() {
    return on_loop([this] { return server_->channel_count(); });
  }

  // A server-named exclusive queue.
  static std::string temp_queue(Channel& c) {
    client::QueueOptions o;
    o.exclusive = true;
    auto q = c.queue_declare("", o);
    EXPECT_TRUE(q.ok()) << q.error().text;
    return q.ok() ? q->name : std::string();
  }
  // Publishes "0".."n-1" to q through the default exchange; the passive declare after them
  // makes the server handle the publishes before the test goes on.
  static void fill(Channel& c, const std::string& q, int n) {
    for (int i = 0; i < n; ++i) EXPECT_TRUE(c.publish("", q, std::to_string(i)).ok());
    EXPECT_GE(ready(c, q), uint32_t(n));
  }
  // q's counts from a passive declare; UINT32_MAX for both if the declare failed.
  static client::QueueInfo peek(Channel& c, const std::string& q) {
    client::QueueOptions o;
    o.passive = true;
    auto info = c.queue_declare(q, o);
    EXPECT_TRUE(info.ok()) << info.error().text;
    return info.ok() ? *info : client::QueueInfo{q, UINT32_MAX, UINT32_MAX};
  }
  static uint32_t ready(Channel& c, const std::string& q) { return peek(c, q).message_count; }
  static uint32_t consumers(Channel& c, const std::string& q) { return peek(c, q).consumer_count; }
  // Every ready message of q via basic.get (auto-ack): bodies, "*" marking a redelivery.
  static std::vector<std::string> drain(Channel& c, const std::string& q) {
    std::vector<std::string> out;
    for (;;) {
      auto m = c.get(q, /*no_ack=*/true);
      EXPECT_TRUE(m.ok()) << m.error().text;
      if (!m.ok() || !*m) return out;
      out.push_back((*m)->body + ((*m)->redelivered ? "*" : ""));
    }
  }
  // basic.get that must return a message; its delivery tag (0 on failure).
  static uint64_t get_tag(Channel& c, const std::string& q) {
    auto m = c.get(q);
    EXPECT_TRUE(m.ok() && *m) << (m.ok() ? "queue empty" : m.error().text);
    return m.ok() && *m ? (*m)->delivery_tag : 0;
  }

  // Pumps c until pred holds (false after `limit`).
  static bool pump_until(Connection& c, const std::function<bool()>& pred,
                         milliseconds limit = milliseconds(1000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (!c.pump(milliseconds(10)).ok()) return pred();
    }
    return true;
  }
  // Pumps c for `span`, so deliveries the server should not send would have arrived.
  static void settle(Connection& c, milliseconds span = milliseconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < deadline)
      if (!c.pump(milliseconds(5)).ok()) return;
  }

  Connection* conn = nullptr;  // guest's connection
  Channel* ch = nullptr;       // a channel on it

 private:
  broker::Broker broker_;
  auth::AuthStore auth_;
  boost::asio::io_context io_{1};
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread loop_;
  std::promise<void> loop_done_;
  std::vector<std::unique_ptr<Connection>> conns_;
};

}  // namespace pulse::server::testing
