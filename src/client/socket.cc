#include "client/socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pulse::client {

namespace {
Error sys_error(const std::string& what, int err) {
  return Error{0, what + ": " + std::strerror(err)};
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}
}  // namespace

Socket::Socket(int fd) : fd_(fd) {
  if (fd_ >= 0) set_nonblocking(fd_);
}

Socket::~Socket() {
  close();
}

Socket::Socket(Socket&& o) noexcept {
  *this = std::move(o);
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    ctx_ = std::exchange(o.ctx_, nullptr);
    ssl_ = std::exchange(o.ssl_, nullptr);
    read_wants_ = o.read_wants_;
    write_wants_ = o.write_wants_;
  }
  return *this;
}

void Socket::close() {
  free_tls();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Socket> Socket::connect(const std::string& host, uint16_t port,
                               std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Error{0, "cannot resolve '" + host + "': " + ::gai_strerror(rc)};
  Error last{0, "no address for '" + host + "'"};
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = sys_error("socket", errno);
      continue;
    }
    Socket s(fd);
    int one = 1;
    // Latency matters more than segment count: the client batches writes itself.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = sys_error("connect to " + host + ":" + service, errno);
      continue;
    }
    auto ready = s.wait(POLLOUT, static_cast<int>(timeout.count()));
    if (!ready.ok()) {
      last = ready.error();
      continue;
    }
    if (*ready == 0) {
      last = Error{0, "connect to " + host + ":" + service + ": timed out"};
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = sys_error("connect to " + host + ":" + service, err);
      continue;
    }
    ::freeaddrinfo(res);
    return s;
  }
  ::freeaddrinfo(res);
  return last;
}

Result<size_t> Socket::read_some(void* buf, size_t n) {
  if (ssl_ != nullptr) return tls_read(buf, n);
  for (;;) {
    ssize_t r = ::recv(fd_, buf, n, 0);
    if (r > 0) return static_cast<size_t>(r);
    if (r == 0) return Error{0, "connection closed by peer"};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return sys_error("read", errno);
  }
}

Result<size_t> Socket::write_some(const void* buf, size_t n) {
  if (ssl_ != nullptr) return tls_write(buf, n);
  for (;;) {
    ssize_t r = ::send(fd_, buf, n, MSG_NOSIGNAL);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return sys_error("write", errno);
  }
}

Result<short> Socket::wait(short events, int timeout_ms) {
  // Under TLS each direction waits for what its last operation asked of the socket.
  const short read_on = ssl_ != nullptr ? read_wants_ : short{POLLIN};
  const short write_on = ssl_ != nullptr ? write_wants_ : short{POLLOUT};
  if ((events & POLLIN) && tls_pending()) return short{POLLIN};
  pollfd p{fd_, 0, 0};
  if (events & POLLIN) p.events |= read_on;
  if (events & POLLOUT) p.events |= write_on;
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r >= 0) break;
    if (errno != EINTR) return sys_error("poll", errno);
  }
  short out = 0;
  if ((events & POLLIN) && (p.revents & read_on)) out |= POLLIN;
  if ((events & POLLOUT) && (p.revents & write_on)) out |= POLLOUT;
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) out |= POLLIN;
  return out;
}

}  // namespace pulse::client
