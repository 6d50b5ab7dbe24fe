// Output coalescing, heartbeats and teardown.
#include "base/log.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/server.h"

namespace pulse::server {

namespace asio = boost::asio;

void AmqpConnection::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(server_.io(), [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

namespace {
constexpr double kGatherMargin = 8;
}  // namespace

bool AmqpConnection::gather_deliveries() {
  if (gathered_ || delivery_bytes_ != out_.size() || closing() || close_after_flush_) {
    return false;
  }
  if (gather_armed_) return true;
  const EventLoop* loop = server_.event_loop();
  if (!loop || loop->window().count() == 0 || settle_rate_ <= 0) return false;
  size_t held = 0;
  for (const auto& [number, channel] : channels_) held += channel->unacked_count();
  // Eight windows' worth, not one: the pace is measured while refills are held, when it
  // cannot exceed what is held per window, so with a margin this large holding stops as soon
  // as it would slow the consumer (with two, pulse-perf's consumer at a prefetch of 100 fell
  // from 1.17M to 0.35-0.6M msg/s, settling into the pace the holding itself allowed).
  const double window_s = std::chrono::duration<double>(loop->window()).count();
  if (static_cast<double>(held) < settle_rate_ * kGatherMargin * window_s) return false;
  gather_armed_ = true;
  gather_timer_.expires_after(loop->window());
  gather_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    auto c = self.lock();
    if (!c) return;
    c->gather_armed_ = false;
    if (ec) return;
    c->gathered_ = true;
    c->flush();
    c->gathered_ = false;
  });
  return true;
}

void AmqpConnection::arm_consumer_timer(int64_t due_ms) {
  if (torn_down_) return;
  consumer_timer_armed_ = true;
  consumer_timer_.expires_after(
      std::chrono::milliseconds(std::max<int64_t>(due_ms - coarse_now_ms() + 1, 1)));
  consumer_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    auto c = self.lock();
    if (!c || ec) return;
    c->consumer_timer_armed_ = false;
    c->on_consumer_timer();
  });
}

void AmqpConnection::on_consumer_timer() {
  if (torn_down_ || state_ != State::kRunning) return;
  const uint32_t timeout = options().consumer_timeout_ms;
  const int64_t now = coarse_now_ms();
  std::optional<int64_t> next;
  for (auto& [number, channel] : channels_) {
    const auto oldest = channel->oldest_unacked_ms();
    if (!oldest) continue;
    if (*oldest + timeout <= now) {
      channel->consumer_timed_out(timeout);
    } else if (!next || *oldest + timeout < *next) {
      next = *oldest + timeout;
    }
  }
  if (next) arm_consumer_timer(*next);
}

void AmqpConnection::note_settled(size_t n) {
  const auto now = std::chrono::steady_clock::now();
  if (pace_since_ == std::chrono::steady_clock::time_point{}) pace_since_ = now;
  settled_ += n;
  const auto elapsed = now - pace_since_;
  if (elapsed >= std::chrono::milliseconds(2)) {
    settle_rate_ = static_cast<double>(settled_) / std::chrono::duration<double>(elapsed).count();
    settled_ = 0;
    pace_since_ = now;
  }
}

bool AmqpConnection::output_congested() {
  if (out_.size() + writing_.size() > options().max_output_backlog) congested_ = true;
  return congested_;
}

void AmqpConnection::flush() {
  if (write_in_flight_ || torn_down_) return;
  if (out_.empty()) {
    if (close_after_flush_) shutdown_socket();
    return;
  }
  if (gather_deliveries()) return;
  delivery_bytes_ = 0;
  writing_.swap(out_);
  io_counters_.send_oct += writing_.size();
  ++io_counters_.send_cnt;
  wrote_since_read_ = true;
  write_in_flight_ = true;
  last_send_ = std::chrono::steady_clock::now();
  if (tls_) return write_tls();
  auto done = [self = shared_from_this()](boost::system::error_code ec, size_t) {
    self->on_write(ec);
  };
  if (writing_.contiguous()) {
    asio::async_write(socket_, asio::buffer(writing_.bytes()), std::move(done));
  } else {
    asio::async_write(socket_, writing_.buffers(), std::move(done));
  }
}

void AmqpConnection::on_write(boost::system::error_code ec) {
  write_in_flight_ = false;
  if (ec) {
    teardown();
    return;
  }
  writing_.clear(4 * options().max_output_backlog);
  if (read_paused_ && out_.size() < options().max_output_backlog && !blocked_ &&
      state_ != State::kClosed) {
    read_paused_ = false;
    read_more();
  }
  if (congested_ && out_.size() < options().max_output_backlog) {
    congested_ = false;
    for (auto& [id, ch] : channels_) ch->resume_deliveries();
  }
  flush();
}

void AmqpConnection::shutdown_socket() {
  if (state_ != State::kClosed) state_ = State::kClosed;
  if (!tls_close_notify()) {
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  teardown();
}

void AmqpConnection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  state_ = State::kClosed;
  boost::system::error_code ec;
  if (!tls_closing()) socket_.close(ec);
  handshake_timer_.cancel();
  heartbeat_timer_.cancel();
  close_timer_.cancel();
  gather_timer_.cancel();
  consumer_timer_.cancel();
  end_session();
  channels_.clear();
  if (!user_.empty()) spdlog::info("connection {}: closed", id_);
  // Keep ourselves alive until this call stack unwinds.
  auto self = shared_from_this();
  server_.connection_finished(id_);
}

void AmqpConnection::start_heartbeat() {
  if (heartbeat_ == 0) return;
  // Check twice per interval: send a beat when we have been quiet, and give up on a client
  // that has been silent for two intervals, as RabbitMQ does.
  heartbeat_timer_.expires_after(std::chrono::milliseconds(heartbeat_ * 500));
  heartbeat_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    if (auto c = self.lock(); c && !ec) c->on_heartbeat_timer();
  });
}

void AmqpConnection::on_heartbeat_timer() {
  if (torn_down_) return;
  auto now = std::chrono::steady_clock::now();
  auto interval = std::chrono::seconds(heartbeat_);
  // A blocked connection is not read, so its silence is ours, not the client's.
  if (!blocked_ && now - last_recv_ > 2 * interval) {
    spdlog::warn("connection {}: missed heartbeats from client, timeout: {}s", id_, heartbeat_);
    shutdown_socket();
    return;
  }
  if (now - last_send_ >= interval / 2 && out_.empty() && !write_in_flight_) {
    amqp::append_heartbeat(out_.bytes());
    flush();
  }
  start_heartbeat();
}

}  // namespace pulse::server
