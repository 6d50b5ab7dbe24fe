#include "pulse/session.h"

#include <algorithm>
#include <thread>

#include "amqp/generated/constants.h"

namespace pulse::detail {

using std::chrono::milliseconds;

namespace {
constexpr milliseconds kHandshakeTimeout{10000};
// A live broker answers connection.close at once; one that does not may be gone (a stalled
// path): do not let a goodbye hold up recovery or shutdown.
constexpr milliseconds kCloseTimeout{1000};
// A connection that lived this long was healthy: the next loss starts the back-off afresh. One
// lost sooner (a broker that accepts and then cancels or closes at once) keeps it growing.
constexpr milliseconds kStable{5000};
}  // namespace

bool is_refusal(const Error& e) {
  switch (e.code) {
    case amqp::kAccessRefused:
    case amqp::kNotFound:
    case amqp::kPreconditionFailed:
    case amqp::kNotAllowed:
      return true;
    default:
      // A certificate that does not verify (or TLS files that cannot be loaded) will not fix
      // itself by retrying either.
      return client::is_tls_setup_error(e);
  }
}

Session::Session(RecoveryOptions options, const std::atomic<bool>* stop, std::string name)
    : options_(std::move(options)),
      stop_(stop),
      name_(std::move(name)),
      backoff_(options_.backoff) {}

Session::~Session() = default;

const client::ConnectionOptions& Session::endpoint() const {
  static const client::ConnectionOptions kNone;
  if (options_.endpoints.empty()) return kNone;
  return options_.endpoints[endpoint_ % options_.endpoints.size()];
}

bool Session::sleep_until(Clock::time_point t) const {
  for (;;) {
    if (stop_requested()) return false;
    const auto now = Clock::now();
    if (now >= t) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(t - now, kSlice));
  }
}

void Session::schedule_retry(const Error& why) {
  last_error_ = why;
  if (!options_.endpoints.empty()) endpoint_ = (endpoint_ + 1) % options_.endpoints.size();
  next_attempt_ = Clock::now() + backoff_.next();
}

Result<bool> Session::ensure_open(Clock::time_point deadline, const Setup& setup) {
  if (options_.endpoints.empty()) return Error{0, "no endpoint to connect to"};
  if (conn_ && conn_->is_open()) return true;
  if (conn_) lost(conn_->closed_error());
  for (;;) {
    if (stop_requested()) return false;
    if (next_attempt_ > Clock::now()) {
      if (next_attempt_ >= deadline) {
        sleep_until(deadline);
        return false;
      }
      if (!sleep_until(next_attempt_)) return false;
    }
    client::ConnectionOptions o = endpoint();
    if (o.connection_name.empty()) o.connection_name = name_;
    // A connect or handshake that hangs (a peer that accepts and stays silent) must not hold
    // us much past the caller's deadline (a second is the least that is fair to a slow
    // broker), nor longer than RabbitMQ's own handshake_timeout (10 s) unless asked to.
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const auto cap = std::max(left, milliseconds(1000));
    o.connect_timeout = std::min(o.connect_timeout, cap);
    o.handshake_timeout =
        std::min(o.handshake_timeout.value_or(std::min(o.rpc_timeout, kHandshakeTimeout)), cap);
    auto c = client::Connection::open(o);
    Status st;
    if (c) {
      conn_ = std::move(*c);
      st = setup(*conn_);
    } else {
      st = std::move(c).error();
    }
    if (st) {
      opened_at_ = Clock::now();
      if (started_) {
        ++reconnects_;
        if (options_.on_recovered) options_.on_recovered(endpoint());
      } else {
        started_ = true;
        if (options_.on_connected) options_.on_connected(endpoint());
      }
      return true;
    }
    const bool fatal = !started_ && is_refusal(st.error());
    if (conn_) {
      // Say goodbye when the server is still there (a refused declaration), else just drop it.
      if (conn_->is_open()) (void)conn_->close(amqp::kReplySuccess, "Goodbye", kCloseTimeout);
      conn_.reset();
    }
    if (options_.on_attempt_failed) options_.on_attempt_failed(endpoint(), st.error());
    schedule_retry(st.error());
    if (fatal) return std::move(st).error();
    if (Clock::now() >= deadline) return false;
  }
}

void Session::lost(Error why, bool graceful) {
  if (conn_) {
    if (graceful && conn_->is_open() && !conn_->blocked()) {
      (void)conn_->close(amqp::kReplySuccess, "Goodbye", kCloseTimeout);
    }
    conn_.reset();
  }
  if (options_.on_disconnected) options_.on_disconnected(why);
  if (Clock::now() - opened_at_ >= kStable) backoff_.reset();
  schedule_retry(why);
}

void Session::close() {
  // A blocked connection is not read by the broker: close-ok would never come.
  if (conn_ && conn_->is_open() && !conn_->blocked()) {
    (void)conn_->close(amqp::kReplySuccess, "Goodbye", kCloseTimeout);
  }
  conn_.reset();
}

}  // namespace pulse::detail
