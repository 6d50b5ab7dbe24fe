#pragma once
// The connection keeper shared by Publisher and Consumer: at most one client::Connection at a
// time, endpoints tried in turn, a back-off wait before every attempt that follows a failure or
// a loss (so a broker that refuses at once is not hammered), and the recovery hooks. It knows
// nothing of what runs on the connection: the owner's Setup declares that on each new one.
// Runs on the owner's thread; waits in slices so that a stop flag set from elsewhere is seen.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/connection.h"
#include "pulse/backoff.h"
#include "pulse/recovery.h"

namespace pulse::detail {

using Clock = std::chrono::steady_clock;

// The longest a Publisher or Consumer waits without looking at its stop flag or deadlines.
inline constexpr std::chrono::milliseconds kSlice{200};

// A refusal that retrying cannot fix (wrong password, no permission, missing exchange, wrong
// arguments, unknown vhost): fatal before the first successful start, retried after it.
bool is_refusal(const Error& e);

class Session {
 public:
  // Declares what a new connection needs (channels, topology). An error drops the connection.
  using Setup = std::function<Status(client::Connection&)>;

  // `stop` (may be null) is polled while waiting. `name` is sent as the connection_name of
  // endpoints that have none, so the management API shows what each connection is.
  Session(RecoveryOptions options, const std::atomic<bool>* stop, std::string name);
  ~Session();

  // Returns true once a connection is open and set up; false when `deadline` passed or stop was
  // requested first. An error for a refusal before the first successful start (see is_refusal).
  // Makes at least one attempt when one is due, even with a deadline already past.
  Result<bool> ensure_open(Clock::time_point deadline, const Setup& setup);

  client::Connection* connection() const { return conn_.get(); }
  bool is_open() const { return conn_ && conn_->is_open(); }
  const client::ConnectionOptions& endpoint() const;

  // The connection failed or must be given up (`why`): drops it, calls on_disconnected and
  // schedules the next attempt, on the next endpoint, after a back-off delay. `graceful` sends
  // connection.close first (the server is alive: a cancel, a channel error). `why` is taken by
  // value: it often points into the connection this drops.
  void lost(Error why, bool graceful = false);
  // Closes the connection on purpose (no hooks, no back-off).
  void close();

  // A connection was set up at least once.
  bool started() const { return started_; }
  uint64_t reconnects() const { return reconnects_; }
  // Why the last attempt or connection failed (for error messages after a deadline).
  const std::optional<Error>& last_error() const { return last_error_; }
  bool stop_requested() const { return stop_ && stop_->load(std::memory_order_relaxed); }

  // Sleeps until t in slices; false when stop was requested.
  bool sleep_until(Clock::time_point t) const;

 private:
  void schedule_retry(const Error& why);

  RecoveryOptions options_;
  const std::atomic<bool>* stop_;
  std::string name_;
  Backoff backoff_;
  std::unique_ptr<client::Connection> conn_;
  size_t endpoint_ = 0;  // index of the endpoint in use or tried next
  Clock::time_point next_attempt_{};
  Clock::time_point opened_at_{};  // when the current (or last) connection was set up
  bool started_ = false;
  uint64_t reconnects_ = 0;
  std::optional<Error> last_error_;
};

}  // namespace pulse::detail
