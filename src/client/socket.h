#pragma once
// A non-blocking TCP socket driven with poll(2), optionally TLS (OpenSSL) on the same fd. The
// client is synchronous with an event pump, so waiting with a deadline (poll) matters more than an
// asynchronous framework; every read takes as much as the kernel has, every write hands over the
// whole pending buffer.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/result.h"

// OpenSSL's types, declared so this header does not pull in OpenSSL's.
struct ssl_st;
struct ssl_ctx_st;

namespace pulse::client {

struct TlsOptions;

// True for start_tls errors that retrying cannot fix: verification failures and unloadable
// CA / certificate / key files (not a peer that closed or timed out).
bool is_tls_setup_error(const Error& e);

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

  // TLS client handshake on the connected socket (tls.cc), bounded by `timeout`. Errors name
  // the cause: OpenSSL's verification reason, a host name mismatch, a peer that is not TLS.
  Status start_tls(const std::string& host, const TlsOptions& options,
                   std::chrono::milliseconds timeout);
  bool tls() const { return ssl_ != nullptr; }

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
  // next read reports the failure). Under TLS "readable" means read_some may make progress: a
  // record already decrypted counts, and a read that needs to write first waits for POLLOUT.
  Result<short> wait(short events, int timeout_ms);

 private:
  Result<size_t> tls_read(void* buf, size_t n);
  bool tls_pending() const;  // decrypted bytes wait inside OpenSSL
  void free_tls();
  Result<size_t> tls_write(const void* buf, size_t n);

  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  // The poll event the last TLS read / write waits for (a read can need the socket writable,
  // e.g. during a key update, and a write readable).
  short read_wants_ = 0;
  short write_wants_ = 0;
};

}  // namespace pulse::client
