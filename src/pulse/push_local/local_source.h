#pragma once
// The push engine's Source inside pulsed: each subscription's durable queue in the in-process
// broker, read with the basic.get path (Queue::get, settle_acked, requeue) on the event loop.
// No AMQP connection and no broker user: nothing hidden shows in /api/users or
// /api/connections, and the queue is an ordinary durable queue the management API lists and
// the guardian watches. Acts with the broker's own authority, as LocalBrokerAdmin does (Pulse
// lets anyone read any exchange; the queue is named in the subscription's namespace).
//
// Thread: the broker's event loop.
#include <map>
#include <memory>
#include <string>

#include "broker/broker.h"
#include "pulse/push/engine.h"

namespace pulse::push {

class LocalSource : public Source {
 public:
  explicit LocalSource(broker::Broker& broker) : broker_(broker) {}
  ~LocalSource() override;

  Status check(const std::string& vhost, const std::string& exchange) override;
  Status open(const Subscription& s) override;
  Result<std::optional<PushMessage>> next(const Subscription& s) override;
  void ack(const Subscription& s) override;
  void release(const Subscription& s) override;
  Status remove(const Subscription& s) override;
  std::optional<uint64_t> depth(const Subscription& s) override;

 private:
  struct Held {
    std::weak_ptr<broker::Queue> queue;
    broker::QueuedMessage message;
  };
  broker::Broker& broker_;
  std::map<std::string, Held> held_;  // by subscription id
};

}  // namespace pulse::push
