#pragma once
// Publishes the guardian's notices (PublishSink's messages) through a recovering
// pulse::Publisher, on exchange/pulse/guardian. Before the first message the exchange is looked
// up on a short connection of its own and declared (durable topic, as Pulse exchanges are) only
// when missing, so a user with write but no configure permission on an existing exchange can
// publish. A refusal (login, or no permission to declare a missing exchange) is logged once,
// saying what to grant, and turns publishing off: the guardian runs on without it.
//
// Runs on pulse-guardian's loop thread: publish() only queues (it never waits for a confirm);
// confirms, heartbeats and reconnects are handled in pump(), which the loop calls while it
// waits for the next poll.
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "client/options.h"
#include "pulse/guardian_run/publish_sink.h"
#include "pulse/publisher.h"

namespace pulse::tools {

class NoticePublisher {
 public:
  enum class State {
    kUnprepared,  // the exchange could not be checked yet (unreachable): retried in pump()
    kReady,       // the exchange exists: messages go to the Publisher
    kOff,         // refused for good: nothing is published
  };

  // Messages held while unprepared, and sent but unconfirmed, at most: beyond, a notice is
  // refused (PublishSink logs it as lost) rather than letting memory grow without end.
  static constexpr size_t kMaxPending = 1000;

  explicit NoticePublisher(std::vector<client::ConnectionOptions> endpoints);
  ~NoticePublisher();

  // Looks up (and if missing declares) the exchange; logs the outcome. Bounded by a few
  // seconds per endpoint.
  State prepare();
  State state() const { return state_; }

  // PublishSink's callback: hands the message to the Publisher (or holds it while unprepared).
  Status publish(const guardian::OutgoingMessage& message);

  // Pumps the Publisher for `timeout` (confirms, heartbeats, reconnects and resends) and, while
  // unprepared, retries prepare() now and then. Returns at once when there is nothing to do
  // but wait.
  void pump(std::chrono::milliseconds timeout);

  // Messages not yet confirmed (held ones included).
  size_t pending() const { return held_.size() + in_flight_; }
  uint64_t confirmed() const { return confirmed_; }
  uint64_t failed() const { return failed_; }

 private:
  State try_prepare(const client::ConnectionOptions& endpoint, std::string& why);
  void send(const guardian::OutgoingMessage& message);
  void release_held();

  std::vector<client::ConnectionOptions> endpoints_;
  std::unique_ptr<Publisher> publisher_;
  State state_ = State::kUnprepared;
  std::chrono::steady_clock::time_point next_prepare_{};
  std::chrono::seconds prepare_delay_{5};
  bool said_unprepared_ = false;
  bool connection_failing_ = false;  // one log line per run of failed connection attempts
  std::deque<guardian::OutgoingMessage> held_;
  size_t in_flight_ = 0;
  uint64_t confirmed_ = 0;
  uint64_t failed_ = 0;
};

}  // namespace pulse::tools
