#pragma once
// A Pulse publisher: every message goes out persistent (by default) on a confirm channel and
// counts as published only once the broker confirmed it. Lost connections are recovered with
// back-off and every unconfirmed message is published again, until its deadline passes.
//
// Runs on the caller's thread; not thread-safe (one Publisher per thread).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "amqp/generated/properties.h"
#include "base/result.h"
#include "pulse/recovery.h"

namespace pulse {

struct PublisherOptions {
  RecoveryOptions recovery;
  // How long one message may take to be confirmed, reconnects included (Taskcluster: 12 s).
  std::chrono::milliseconds deadline{12000};
  // Declare each exchange (durable topic, as mozillapulse and Taskcluster do) before its first
  // publish on a connection. Off for exchanges the user may not configure.
  bool declare_exchanges = true;
  // send() waits (pumping) while this many messages await their confirm, so a bulk sender's
  // memory stays bounded.
  size_t max_in_flight = 10000;
};

struct PublishOptions {
  bool persistent = true;  // delivery_mode 2
  // Taskcluster-style custom routes: sent as CC "route.<x>" headers.
  std::vector<std::string> routes;
  // Extra `_meta` fields (an object) for enveloped messages.
  nlohmann::json extra_meta = nullptr;
  // Extra AMQP properties; content_type, delivery_mode and the CC header are set by the publisher.
  amqp::BasicProperties properties;
};

struct PublisherStats {
  uint64_t published = 0;  // accepted by publish()/send()
  uint64_t confirmed = 0;
  uint64_t failed = 0;       // deadline passed, nacked past the deadline, or refused
  uint64_t republished = 0;  // publishes sent again after a reconnect or a nack
  uint64_t reconnects = 0;
};

class Publisher {
 public:
  explicit Publisher(PublisherOptions options);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Wraps `payload` in the Pulse envelope, publishes it with content_type application/json (and
  // content_encoding utf-8, as kombu and Taskcluster send it) and returns once it is confirmed,
  // or an error when the deadline passes first or the broker refuses it for good (403 on the
  // exchange, a bad routing key, ...).
  Status publish(std::string_view exchange, std::string_view routing_key,
                 const nlohmann::json& payload, const PublishOptions& options = {});
  // The same for a body sent as it is (no envelope; content_type from options.properties).
  Status publish_body(std::string_view exchange, std::string_view routing_key,
                      std::string_view body, const PublishOptions& options = {});

  // Pipelined publishing for bulk senders: send() queues a message (wrapped in the envelope
  // unless `envelope` is false) and returns its ticket at once; wait() pumps until every sent
  // message is confirmed or failed, calling on_outcome(ticket, status) for each as it settles.
  // A ticket's outcome is never told before send() has returned it (a refusal that comes
  // during send() is told by the next send(), poll() or wait()).
  // Sent messages are written in batches: one may stay in the output buffer until the next
  // wait(), poll() or a send() that fills the batch, so a producer that goes idle calls poll().
  using OutcomeHandler = std::function<void(uint64_t ticket, const Status& outcome)>;
  void on_outcome(OutcomeHandler h);
  Result<uint64_t> send(std::string_view exchange, std::string_view routing_key,
                        std::string_view body, bool envelope, const PublishOptions& options = {});
  // OK when every message sent so far was confirmed, else the first failure.
  Status wait();
  // Keeps the connection alive while the application has nothing to send (an idle or slow
  // producer): pumps for up to `timeout` (at least once), handling confirms and outcomes,
  // heartbeats, a lost connection (reconnect, resend the unconfirmed) and deadlines. Waits in
  // poll(2) or the back-off; never busy-loops.
  void poll(std::chrono::milliseconds timeout);

  // Closes the connection (unconfirmed messages fail). The destructor closes too but tells
  // no outcome.
  void close();
  const PublisherStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pulse
