#pragma once
// A Pulse consumer: one queue (queue/<user>/<applabel>, or queue/<user>/<uuid>) bound to a list
// of (exchange, topic pattern) pairs. Exchanges are declared passively (a consumer never creates
// them). Each message is handed to the handler with its parsed envelope and acked after the
// handler returned OK (the acks of one read go out together, after on_batch_end); a failing
// handler never loses the message. Any lost connection (socket
// error, missed heartbeats, CONNECTION_FORCED, broker restart, a server cancel) is recovered:
// reconnect with back-off, re-declare, re-bind, re-consume.
//
// run() executes everything on the caller's thread; stop() may be called from any thread or a
// signal handler.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/types.h"
#include "pulse/envelope.h"
#include "pulse/recovery.h"

namespace pulse {

struct Binding {
  std::string exchange;
  std::string topic = "#";
};

enum class GiveUp {
  kLog,         // log the message (through on_give_up) and ack it
  kDeadLetter,  // nack without requeue: the queue's dead-letter exchange gets it
};

struct ConsumerOptions {
  RecoveryOptions recovery;
  std::vector<Binding> bindings;  // at least one
  // Queue owner: the <user> of queue/<user>/...; empty = the connection's user name.
  std::string user;
  // Names the queue queue/<user>/<applabel>; empty = a fresh uuid per Consumer.
  std::string applabel;
  // Durable queues (durable, not auto-delete) need an applabel; others are auto-delete.
  bool durable = false;
  // x-expires for the queue, so an abandoned durable queue goes away by itself.
  std::optional<std::chrono::milliseconds> expires;
  uint16_t prefetch = 100;
  // A message whose handler failed this many times (nack + requeue each time) is given up.
  unsigned max_attempts = 5;
  GiveUp give_up = GiveUp::kLog;
  // With kDeadLetter: declared on the queue as x-dead-letter-exchange (empty: none).
  std::string dead_letter_exchange;
  // The handler's OK leaves the message unacked: the application settles it later with
  // Consumer::ack() or requeue() on run()'s thread (between run_for() calls or in a hook), e.g.
  // once work handed to other threads is done and its output confirmed. Unacked messages count
  // against `prefetch`, which so bounds the work in progress. Failures are handled as without it.
  bool manual_ack = false;
  // Called on run()'s thread after the handler has seen every delivery of one read, before
  // their acks are sent and before run() waits again: a tool flushes its output there, so a
  // crash cannot lose a message it printed but had not written out yet. May be empty.
  std::function<void()> on_batch_end;
};

// Names one delivery for a later Consumer::ack() / requeue() (manual_ack): its delivery tag
// and the channel it came on (a tag means nothing on a later channel).
struct DeliveryRef {
  uint64_t generation = 0;
  uint64_t delivery_tag = 0;
};

// What the handler receives. `envelope` is null when the body is not JSON (parse_error says
// why); `raw` is the delivery (views valid only during the call).
struct Received {
  const Envelope* envelope = nullptr;
  std::string_view parse_error;
  const client::Delivery& raw;
  DeliveryRef ref;
};

// Return an error (or throw) to have the message requeued and retried.
using MessageHandler = std::function<Status(const Received&)>;

struct ConsumerStats {
  uint64_t delivered = 0;
  uint64_t acked = 0;
  uint64_t retried = 0;   // handler failures that requeued the message
  uint64_t given_up = 0;  // failures past max_attempts
  uint64_t reconnects = 0;
};

class Consumer {
 public:
  Consumer(ConsumerOptions options, MessageHandler handler);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Called with the message (and the last error) when a message is given up.
  void on_give_up(std::function<void(const Received&, const Error&)> h);

  // Connects (if needed) and consumes until stop() or `timeout` passes, recovering from every
  // lost connection. Errors only for what recovery cannot fix: invalid options, or a refusal
  // (login, permissions, missing exchange) before the first successful start. Acks of handled
  // messages are written before run() returns.
  Status run();
  Status run_for(std::chrono::milliseconds timeout);
  // Makes run() return within ~200 ms (at once when called from the handler; deliveries of the
  // same read that the handler has not seen yet go back to the queue). Async-signal-safe: it
  // only sets an atomic flag. A connection attempt or declaration under way finishes first.
  void stop();

  // manual_ack: settles a delivery the handler accepted. An error when the channel it came on
  // is gone (the broker has requeued it and delivers it again: at-least-once).
  Status ack(const DeliveryRef& ref);
  Status requeue(const DeliveryRef& ref);

  const std::string& queue_name() const;
  const ConsumerStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pulse
