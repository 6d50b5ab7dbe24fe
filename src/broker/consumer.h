#pragma once
// The broker's view of a consumer. The broker knows nothing of sockets: a ConsumerSink (a
// protocol channel) decides whether it can take a message and how to put it on the wire.
#include <cstdint>
#include <string>

#include "amqp/field_table.h"
#include "broker/message.h"

namespace pulse::broker {

class Queue;
struct Consumer;

class ConsumerSink {
 public:
  virtual ~ConsumerSink() = default;
  // True when the consumer may take one more message now (prefetch window, output backlog).
  virtual bool can_take(const Consumer& c) const = 0;
  // Takes ownership of the delivery; for no-ack consumers the queue has already forgotten it.
  virtual void deliver(Consumer& c, Queue& q, QueuedMessage&& m) = 0;
  // The queue went away under the consumer (deleted, expired): send basic.cancel if the client
  // asked for consumer_cancel_notify. The consumer object is destroyed right after.
  virtual void cancelled_by_broker(Consumer& c) = 0;
};

struct Consumer {
  std::string tag;
  ConsumerSink* sink = nullptr;
  uint64_t connection_id = 0;
  bool no_ack = false;
  bool exclusive = false;
  int priority = 0;
  amqp::FieldTable arguments;
  uint64_t delivered = 0;
  void* opaque = nullptr;  // the sink's own per-consumer state
};

}  // namespace pulse::broker
