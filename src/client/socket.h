#pragma once
// A non-blocking TCP socket driven with poll(2). The client is synchronous with an event pump, so
// waiting with a deadline (poll) matters more than an asynchronous framework; every read takes
// as much as the kernel has, every write hands over the whole pending buffer.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/result.h"

namespace pulse::client {

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd);  // takes ownership; switches the fd to non-blocking
  ~Socket();
  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Resolves host (name or address) and connects to the first address that answers in time.
  static Result<Socket> connect(const std::string& host, uint16_t port,
                                std::chrono::milliseconds timeout);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void close();

  // >0 bytes read, 0 would block; an Error on EOF (code 0, "connection closed by peer") or a
  // socket error.
  Result<size_t> read_some(void* buf, size_t n);
  // Bytes written (possibly 0 when the kernel buffer is full), or an Error.
  Result<size_t> write_some(const void* buf, size_t n);

  // Waits until readable and/or writable or the timeout passes (-1 = forever). Returns the
  // revents subset of {POLLIN, POLLOUT} that became ready (POLLERR/HUP count as readable, so the
  // next read reports the failure).
  Result<short> wait(short events, int timeout_ms);

 private:
  int fd_ = -1;
};

}  // namespace pulse::client
