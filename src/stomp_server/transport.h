#pragma once
// What a STOMP session needs from the connection it runs on: a byte sink and a close. The TCP
// and TLS listener (stomp_server.h) implements it, and so can a WebSocket (Web-STOMP), whose
// messages carry the same bytes.
#include <cstddef>
#include <functional>
#include <string_view>

namespace pulse::stomp_server {

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues bytes for the peer; they are written once the current input batch is handled.
  virtual void send(std::string_view bytes) = 0;
  // Writes what was queued, then closes. The session is told through Session::closed().
  virtual void close_after_flush() = 0;
  // Closes now (missed heart-beats, login timeout).
  virtual void abort() = 0;
  // Queued bytes not yet written (back-pressure for deliveries).
  virtual size_t pending_bytes() const = 0;
  // Total bytes written so far (heart-beat bookkeeping).
  virtual uint64_t bytes_sent() const = 0;
  // The session stopped reading for a resource alarm (Session::blocked) and may read again.
  virtual void resume_reading() = 0;
  // Shutdown: the session handles the input the peer already sent (an ACK written just before
  // the stop), then `then` runs: at once, or after the reads a transport that reads
  // asynchronously still has to make. Nothing is drained once the session is closing.
  virtual void drain_input(std::function<void()> then) = 0;
};

}  // namespace pulse::stomp_server
