#pragma once
// Shared fixture for broker unit tests: a Broker with vhost "/", helpers to declare, publish
// and consume, and FakeSink, a stand-in for the protocol side (a channel) that records
// deliveries and controls flow through can_take().
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker.h"

namespace pulse::broker::testing {

// A message's wire properties decoded afresh, to check they agree with properties().
inline amqp::BasicProperties decode_raw(const Message& m) {
  amqp::BasicProperties p;
  ByteReader r(m.raw_properties().data(), m.raw_properties().size());
  EXPECT_TRUE(amqp::decode_properties(r, p) && r.empty());
  return p;
}

using amqp::FieldArray;
using amqp::FieldTable;
using amqp::FieldValue;
using namespace std::chrono_literals;

class FakeSink : public ConsumerSink {
 public:
  struct Delivery {
    std::string tag;
    Queue* queue = nullptr;
    QueuedMessage m;
    const std::string& body() const { return m.msg->body; }
  };

  // credit < 0: unlimited; otherwise the number of further messages it can take.
  explicit FakeSink(int credit = -1) : credit(credit) {}

  bool can_take(const Consumer&) const override { return credit != 0; }
  void deliver(Consumer& c, Queue& q, QueuedMessage&& m) override {
    if (credit > 0) --credit;
    deliveries.push_back(Delivery{c.tag, &q, std::move(m)});
  }
  void cancelled_by_broker(Consumer& c) override { cancelled.push_back(c.tag); }

  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& d : deliveries) out.push_back(d.body());
    return out;
  }
  // Takes the oldest delivery out of the record (to ack, requeue or reject it).
  QueuedMessage take(size_t i = 0) {
    QueuedMessage m = std::move(deliveries.at(i).m);
    deliveries.erase(deliveries.begin() + static_cast<ptrdiff_t>(i));
    return m;
  }

  int credit;
  std::vector<Delivery> deliveries;
  std::vector<std::string> cancelled;
};

class BrokerTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kConn = 1;

  QueuePtr declare(const std::string& name, FieldTable args = {}, bool durable = false) {
    QueueDeclare d;
    d.name = name;
    d.durable = durable;
    d.arguments = std::move(args);
    d.connection_id = kConn;
    auto r = vh.declare_queue(std::move(d));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
    return r.ok() ? *r : nullptr;
  }

  QueuePtr declare_quorum(const std::string& name, FieldTable args = {}) {
    args.emplace_back("x-queue-type", std::string("quorum"));
    return declare(name, std::move(args), /*durable=*/true);
  }

  Exchange* exchange(const std::string& name, const std::string& type, FieldTable args = {},
                     bool auto_delete = false, bool internal = false) {
    ExchangeDeclare d;
    d.name = name;
    d.type = type;
    d.auto_delete = auto_delete;
    d.internal = internal;
    d.arguments = std::move(args);
    auto r = vh.declare_exchange(d);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
    return r.ok() ? *r : nullptr;
  }

  void bind(const std::string& q, const std::string& x, const std::string& key,
            const FieldTable& args = {}) {
    auto s = vh.bind_queue(q, x, key, args, kConn);
    ASSERT_TRUE(s.ok()) << s.error().text;
  }

  static Message make(const std::string& exchange, const std::string& key, std::string body,
                      amqp::BasicProperties props = {}) {
    Message m;
    m.exchange = exchange;
    m.routing_key = key;
    m.set_properties(std::move(props));
    m.body = std::move(body);
    return m;
  }

  PublishOutcome publish(const std::string& exchange, const std::string& key, std::string body,
                         amqp::BasicProperties props = {}) {
    auto r = vh.publish(make(exchange, key, std::move(body), std::move(props)));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
    return r.ok() ? *r : PublishOutcome{};
  }
  // Publishes straight to queue `q` through the default exchange.
  PublishOutcome to_queue(const std::string& q, std::string body, amqp::BasicProperties p = {}) {
    return publish("", q, std::move(body), std::move(p));
  }

  static Consumer* consume(Queue& q, FakeSink& sink, const std::string& tag, int priority = 0,
                           bool no_ack = false, uint64_t conn = kConn) {
    auto c = std::make_unique<Consumer>();
    c->tag = tag;
    c->sink = &sink;
    c->connection_id = conn;
    c->no_ack = no_ack;
    c->priority = priority;
    return q.add_consumer(std::move(c));
  }

  // Drains the queue with basic.get (no-ack) and returns the bodies in order.
  static std::vector<std::string> drain(Queue& q) {
    std::vector<std::string> out;
    while (auto m = q.get(true)) out.push_back(m->msg->body);
    return out;
  }

  static amqp::BasicProperties with_expiration(const std::string& ms) {
    amqp::BasicProperties p;
    p.set_expiration(ms);
    return p;
  }
  static amqp::BasicProperties with_priority(uint8_t prio) {
    amqp::BasicProperties p;
    p.set_priority(prio);
    return p;
  }
  static amqp::BasicProperties with_headers(FieldTable h) {
    amqp::BasicProperties p;
    p.set_headers(h);
    return p;
  }

  // Fires every timer due within `ahead` of now, without sleeping.
  void advance(std::chrono::milliseconds ahead) { broker.run_timers(Clock::now() + ahead); }

  // Sinks live in the fixture: consumers still attached when the broker is destroyed are
  // cancelled through them, so they must outlive it (declared before `broker`).
  FakeSink& new_sink(int credit = -1) { return sinks_.emplace_back(credit); }

  std::deque<FakeSink> sinks_;
  Broker broker;
  VHost& vh = broker.add_vhost("/");
};

}  // namespace pulse::broker::testing
