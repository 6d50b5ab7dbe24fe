// The event pump: reads, frame demultiplexing, coalesced writes and heartbeats.
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "client/channel.h"
#include "client/connection.h"

namespace pulse::client {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Holds dispatch_depth_ up while frames are handled, so handlers cannot re-enter the reader.
struct DepthGuard {
  explicit DepthGuard(int& d) : d_(d) { ++d_; }
  ~DepthGuard() { --d_; }
  int& d_;
};
}  // namespace

Status Connection::pump(milliseconds timeout) {
  if (dispatch_depth_ > 0) {
    return Error{0, "pump() and synchronous methods cannot be called from a handler"};
  }
  if (state_ == State::kClosed) return closed_error();
  if (auto st = flush(); !st) return st;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto n = read_and_handle();
    if (!n) return std::move(n).error();
    const auto now = Clock::now();
    // Also when busy: a consumer that only receives still owes the server its heartbeats.
    heartbeat_tick(now);
    if (*n > 0) return flush();  // what the handlers produced (acks, replies) goes out now
    if (state_ == State::kClosed) return closed_error();
    if (pending_output() > 0) {
      if (auto st = flush(); !st) return st;
    }
    if (now >= deadline) return {};
    auto ready = socket_.wait(POLLIN, poll_timeout_ms(now, deadline));
    if (!ready) {
      fail(ready.error());
      return closed_error();
    }
  }
}

Status Connection::flush() {
  if (dispatch_depth_ > 0) return {};  // the pump writes once the handlers are done
  if (state_ == State::kClosed) return closed_error();
  return write_pending();
}

Status Connection::write_pending() {
  while (out_off_ < out_.size()) {
    auto w = socket_.write_some(out_.data() + out_off_, out_.size() - out_off_);
    if (!w) {
      fail(std::move(w).error());
      return closed_error();
    }
    if (*w > 0) {
      out_off_ += *w;
      ++stats_.writes;
      stats_.bytes_out += *w;
      last_write_ = Clock::now();
      continue;
    }
    // The kernel's send buffer is full. Keep reading meanwhile: a server that stops reading us
    // until we drain its replies (confirms, deliveries) would otherwise deadlock with us.
    // Inside a handler the read buffer is in use: only wait for room then.
    const auto now = Clock::now();
    const short events = dispatch_depth_ > 0 ? POLLOUT : (POLLIN | POLLOUT);
    auto ready = socket_.wait(events, poll_timeout_ms(now, now + milliseconds(1000)));
    if (!ready) {
      fail(ready.error());
      return closed_error();
    }
    if ((*ready & POLLIN) && dispatch_depth_ == 0) {
      auto n = read_and_handle();
      if (!n) return std::move(n).error();
    }
    heartbeat_tick(Clock::now());
    if (state_ == State::kClosed) return closed_error();
  }
  out_.clear();
  out_off_ = 0;
  return {};
}

Status Connection::wait_for(const std::function<bool()>& done, const char* what,
                            std::optional<milliseconds> timeout) {
  const auto deadline = Clock::now() + timeout.value_or(options_.rpc_timeout);
  // The request goes out even when its answer is already here (a scripted or eager peer).
  if (dispatch_depth_ == 0 && state_ != State::kClosed) {
    if (auto st = flush(); !st && !done()) return st;
  }
  while (!done()) {
    if (dispatch_depth_ > 0) {
      return Error{0, std::string("cannot wait for ") + what + " inside a handler"};
    }
    if (state_ == State::kClosed) return closed_error();
    const auto now = Clock::now();
    if (now >= deadline) return Error{0, std::string("timed out waiting for ") + what};
    auto left = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
    if (auto st = pump(std::min(left, milliseconds(200))); !st) {
      if (done()) return {};
      return st;
    }
  }
  return {};
}

Result<size_t> Connection::read_and_handle() {
  // The buffer starts small (idle connections cost little) and doubles up to read_chunk of free
  // space while reads keep filling it.
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  } else if (in_.size() - in_end_ < read_size_) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.size() - in_end_ < read_size_) in_.resize(in_end_ + read_size_);
  const size_t space = in_.size() - in_end_;
  auto r = socket_.read_some(in_.data() + in_end_, space);
  if (!r) {
    fail(std::move(r).error());
    return closed_error();
  }
  if (*r == 0) return size_t{0};
  if (*r == space && read_size_ < options_.read_chunk) {
    read_size_ = std::min(read_size_ * 2, options_.read_chunk);
  }
  ++stats_.reads;
  stats_.bytes_in += *r;
  in_end_ += *r;
  last_read_ = Clock::now();
  handle_input();
  if (state_ == State::kClosed && error_) return *error_;
  return *r;
}

void Connection::handle_input() {
  DepthGuard guard(dispatch_depth_);
  if (state_ == State::kHandshake && in_end_ - in_begin_ >= 1 && in_[in_begin_] == 'A') {
    // The server answered our protocol header with its own: it does not speak 0-9-1.
    return fail(Error{0, "server refused AMQP 0-9-1 (it answered with a protocol header)"});
  }
  while (state_ != State::kClosed) {
    auto d = amqp::decode_frame(std::span(in_.data() + in_begin_, in_end_ - in_begin_), frame_max_);
    if (d.status == amqp::DecodeStatus::kNeedMore) break;
    if (d.status == amqp::DecodeStatus::kError) {
      return protocol_error(amqp::kFrameError, "FRAME_ERROR - " + d.error.text);
    }
    in_begin_ += d.consumed;
    ++stats_.frames_in;
    handle_frame(d.frame);
  }
}

void Connection::handle_frame(const amqp::FrameView& f) {
  switch (amqp::analyze_frame(f)) {
    case amqp::FrameKind::kHeartbeat:
      return;
    case amqp::FrameKind::kMethod:
      if (f.channel == 0) return handle_method0(f.payload);
      break;
    case amqp::FrameKind::kHeader:
    case amqp::FrameKind::kBody:
      if (f.channel == 0) break;
      if (Channel* ch = channel(f.channel)) {
        if (f.type == amqp::kFrameHeader) return ch->handle_header(f.payload);
        return ch->handle_body(f.payload);
      }
      return;  // content for a channel we already released
    case amqp::FrameKind::kInvalid:
      return protocol_error(amqp::kFrameError,
                            "FRAME_ERROR - invalid frame type " + std::to_string(f.type));
  }
  if (f.channel == 0) {
    return protocol_error(amqp::kCommandInvalid, "COMMAND_INVALID - content on channel 0");
  }
  if (Channel* ch = channel(f.channel)) ch->handle_method(f.payload);
}

void Connection::handle_method0(std::span<const uint8_t> payload) {
  auto m = amqp::decode_method(payload);
  if (!m) return protocol_error(m.error().code, m.error().text);
  if (auto* c = std::get_if<amqp::ConnectionClose>(&*m)) {
    amqp::append_method_frame(out_, 0, amqp::ConnectionCloseOk{});
    (void)write_pending();  // best effort: the server closes the socket after close-ok anyway
    return fail(Error{c->reply_code, c->reply_text, c->class_id, c->method_id});
  }
  if (std::holds_alternative<amqp::ConnectionBlocked>(*m)) {
    blocked_ = true;
    blocked_reason_ = std::get<amqp::ConnectionBlocked>(*m).reason;
    if (on_blocked_) on_blocked_(true, blocked_reason_);
    return;
  }
  if (std::holds_alternative<amqp::ConnectionUnblocked>(*m)) {
    blocked_ = false;
    blocked_reason_.clear();
    if (on_blocked_) on_blocked_(false, "");
    return;
  }
  if (state_ == State::kOpen) return;  // nothing is awaited on channel 0 once open
  method0_.push_back(std::move(*m));
}

void Connection::heartbeat_tick(Clock::time_point now) {
  if (heartbeat_ == 0 || state_ == State::kClosed) return;
  const auto interval = std::chrono::seconds(heartbeat_);
  if (now - last_read_ > 2 * interval) {
    return fail(Error{
        0, "missed heartbeats from the server, timeout: " + std::to_string(heartbeat_) + "s"});
  }
  if (now - last_write_ >= interval / 2 && pending_output() == 0) {
    amqp::append_heartbeat(out_);
    if (dispatch_depth_ == 0) (void)write_pending();
  }
}

int Connection::poll_timeout_ms(Clock::time_point now, Clock::time_point deadline) const {
  auto until = deadline;
  if (heartbeat_ > 0) {
    // Wake up for the next heartbeat we owe and for the server's silence limit.
    until = std::min(until, last_write_ + std::chrono::seconds(heartbeat_) / 2);
    until = std::min(until, last_read_ + 2 * std::chrono::seconds(heartbeat_) + milliseconds(1));
  }
  if (until <= now) return 0;
  return static_cast<int>(std::chrono::ceil<milliseconds>(until - now).count());
}

void Connection::fail(Error e) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kHandshake && e.code == 0) {
    e.text = "connection failed during the handshake: " + e.text;
  }
  state_ = State::kClosed;
  error_ = std::move(e);
  socket_.close();
  for (auto& ch : channels_) {
    if (ch) ch->connection_lost(*error_);
  }
}

void Connection::protocol_error(uint16_t code, std::string text) {
  if (state_ == State::kClosed) return;
  amqp::ConnectionClose c;
  c.reply_code = code;
  c.reply_text = text;
  amqp::append_method_frame(out_, 0, c);
  (void)write_pending();
  fail(Error{code, "protocol error by the server: " + text});
}

}  // namespace pulse::client
