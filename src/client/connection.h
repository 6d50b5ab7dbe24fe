#pragma once
// An AMQP 0-9-1 client connection: synchronous methods plus an event pump. One thread owns a
// Connection and everything on it (no locks inside); use one connection per thread.
//
// Output is buffered: publishes and acks are appended to one buffer that is written when it
// passes ConnectionOptions::write_batch_bytes, on flush() and on every pump(), so many frames go
// out per write syscall. Input is read in large chunks and every complete frame is handled
// before the next read; deliveries reach handlers as views into the read buffer.
//
// Handlers (deliveries, confirms, returns, cancels, blocked) run inside pump()/flush()/a
// synchronous method. From a handler you may publish, ack, nack and reject (buffered, flushed
// after the batch) but not call synchronous methods or pump(): those return an error there.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/frame.h"
#include "base/result.h"
#include "client/options.h"
#include "client/socket.h"
#include "client/types.h"

namespace pulse::client {

class Channel;

class Connection {
 public:
  // Connects, authenticates with PLAIN, tunes and opens the vhost. Errors carry the server's
  // reply code and text (e.g. 403 ACCESS_REFUSED, 530 NOT_ALLOWED for a missing vhost).
  static Result<std::unique_ptr<Connection>> open(const ConnectionOptions& options);
  // The same handshake over an already connected socket.
  static Result<std::unique_ptr<Connection>> open_on(Socket socket,
                                                     const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens a channel on the lowest free id. The pointer stays valid until Channel::close()
  // returns or the Connection is destroyed.
  Result<Channel*> open_channel();

  // connection.close, waits for close-ok (bounded by `timeout`, default rpc_timeout), then
  // closes the socket. A short timeout suits a peer that may have gone silent.
  Status close(uint16_t reply_code = amqp::kReplySuccess, std::string_view reply_text = "Goodbye",
               std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Flushes pending output, waits up to `timeout` for input, handles every complete frame of one
  // read (running handlers), flushes what they produced, and keeps heartbeats going. Returns
  // OK on a timeout; an error once the connection has failed or was closed.
  Status pump(std::chrono::milliseconds timeout);
  // Writes everything buffered, reading (and handling) input meanwhile if the socket is full, so
  // neither side can block the other. Inside a handler it only schedules the write.
  Status flush();

  bool is_open() const { return state_ == State::kOpen; }
  // Why the connection failed or the server closed it; nullptr while open or after close().
  const Error* error() const { return error_ ? &*error_ : nullptr; }
  // The error an operation on this connection returns now (for a closed connection).
  Error closed_error() const;

  bool blocked() const { return blocked_; }
  const std::string& blocked_reason() const { return blocked_reason_; }
  void on_blocked(BlockedHandler h) { on_blocked_ = std::move(h); }

  uint32_t frame_max() const { return frame_max_; }
  uint16_t channel_max() const { return channel_max_; }
  uint16_t heartbeat() const { return heartbeat_; }
  const amqp::FieldTable& server_properties() const { return server_properties_; }
  const ConnectionOptions& options() const { return options_; }
  const IoStats& stats() const { return stats_; }
  int fd() const { return socket_.fd(); }
  size_t pending_output() const { return out_.size() - out_off_; }

  // --- used by Channel ---------------------------------------------------------------------
  std::string& out() { return out_; }
  // Writes when the batch is full (unless inside a handler).
  Status after_append() {
    if (out_.size() - out_off_ < options_.write_batch_bytes || dispatch_depth_ > 0) return {};
    return pump(std::chrono::milliseconds(0));
  }
  // Pumps until done() holds, the connection fails, or `timeout` (default rpc_timeout) passes
  // (what names the awaited reply in the timeout error).
  Status wait_for(const std::function<bool()>& done, const char* what,
                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  bool in_handler() const { return dispatch_depth_ > 0; }
  void release_channel(uint16_t id);

 private:
  enum class State { kHandshake, kOpen, kClosing, kClosed };
  friend class Channel;

  Connection(Socket socket, const ConnectionOptions& options);
  Status handshake();
  Result<amqp::Method> await_method0(const char* what);

  // Reads once (non-blocking) and handles the frames; returns bytes read (0 = would block).
  Result<size_t> read_and_handle();
  void handle_input();
  void handle_frame(const amqp::FrameView& f);
  void handle_method0(std::span<const uint8_t> payload);
  Channel* channel(uint16_t id) const {
    return id < channels_.size() ? channels_[id].get() : nullptr;
  }
  Status write_pending();
  void heartbeat_tick(std::chrono::steady_clock::time_point now);
  int poll_timeout_ms(std::chrono::steady_clock::time_point now,
                      std::chrono::steady_clock::time_point deadline) const;
  // Marks the connection dead with `e`, closes the socket and every channel.
  void fail(Error e);
  // Answers a protocol violation by the server with connection.close (best effort) and fails.
  void protocol_error(uint16_t code, std::string text);

  ConnectionOptions options_;
  Socket socket_;
  State state_ = State::kHandshake;
  std::optional<Error> error_;
  bool closed_by_app_ = false;

  std::vector<uint8_t> in_;
  size_t in_begin_ = 0, in_end_ = 0;
  size_t read_size_ = 4096;  // free space offered to the next read
  std::string out_;
  size_t out_off_ = 0;
  int dispatch_depth_ = 0;
  IoStats stats_;

  uint32_t frame_max_ = 0;  // 0 until tuned: no limit on what the server sends
  uint16_t channel_max_ = 0;
  uint16_t heartbeat_ = 0;
  std::chrono::steady_clock::time_point last_read_, last_write_;
  amqp::FieldTable server_properties_;
  // Channel-0 replies (handshake steps, close-ok) in arrival order: one read may carry several.
  std::deque<amqp::Method> method0_;

  bool blocked_ = false;
  std::string blocked_reason_;
  BlockedHandler on_blocked_;

  std::vector<std::unique_ptr<Channel>> channels_;  // index = channel id
};

}  // namespace pulse::client
