#pragma once
// The Publisher's state (internal): every message not yet settled, the channel it goes out on,
// and the bookkeeping between tickets (what the application holds) and publish sequence numbers
// (what the current channel's confirms name).
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "client/channel.h"
#include "pulse/publisher.h"
#include "pulse/session.h"

namespace pulse {

struct Publisher::Impl {
  using Clock = detail::Clock;
  struct Pending {
    std::string exchange, routing_key, body, properties;  // properties encoded once
    Clock::time_point deadline;
    uint64_t seq = 0;  // publish sequence number on the current channel; 0 = not sent on it
    unsigned sends = 0;
    unsigned nacks = 0;
    std::optional<Error> error;  // why the last attempt did not succeed
  };

  explicit Impl(PublisherOptions o)
      : options(std::move(o)), session(options.recovery, nullptr, "pulse publisher") {}

  Result<uint64_t> submit(std::string_view exchange, std::string_view routing_key, std::string body,
                          const PublishOptions& po, bool await);
  // Pumps, reconnects and resends until done() holds; never waits past `limit`.
  void drive(const std::function<bool()>& done, Clock::time_point limit = Clock::time_point::max());
  Status setup(client::Connection& c);
  void requeue_all();
  void send_ready();
  Status send_one(uint64_t ticket, Pending& p);
  void handle_failure(const Error& e);
  void connection_lost(Error why);
  void process_confirms();
  void expire();
  void settle(uint64_t ticket, Status outcome);
  void fail_all(const Error& e);
  void deliver_outcomes();
  Clock::duration next_wait() const;
  client::Connection* conn() const { return session.connection(); }

  PublisherOptions options;
  detail::Session session;
  detail::Session::Setup setup_fn = [this](client::Connection& c) { return setup(c); };
  client::Channel* channel = nullptr;
  std::map<uint64_t, Pending> pending;  // by ticket: send order, which is also deadline order
  std::deque<uint64_t> to_send;         // tickets to send (again) on the current channel
  std::multimap<Clock::time_point, uint64_t> retry_at;  // nacked tickets and when to resend
  std::unordered_map<uint64_t, uint64_t> ticket_of_seq;
  std::vector<std::pair<uint64_t, bool>> confirms;  // (seq, ack) as the pump saw them
  std::unordered_set<std::string> declared;         // on the current connection
  std::optional<Clock::time_point> blocked_since;
  uint64_t next_ticket = 1;
  uint64_t awaited = 0;  // the ticket publish() waits for
  std::optional<Status> awaited_outcome;
  std::optional<Error> first_failure;
  std::vector<std::pair<uint64_t, Status>> outcomes;  // settled, not yet told to on_outcome
  // The ticket send() is about to return: its outcome (a refusal can come during send(), e.g.
  // the exchange's declaration) waits for the next call, as the caller does not know it yet.
  uint64_t submitting = 0;
  bool delivering = false;
  OutcomeHandler on_outcome;
  PublisherStats stats;
};

}  // namespace pulse
