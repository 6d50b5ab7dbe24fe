#pragma once
// The in-process harness of the server fuzz targets: a listener of the project (AMQP, STOMP,
// Web-STOMP) runs on an io_context that the fuzzing thread pumps itself, and each input is one
// real TCP connection on 127.0.0.1 to it. Nothing here runs a second thread, so a sanitizer
// report points at the server code that handled the input.
//
// Why a socket and not a fake: AmqpConnection and the WebSocket stream are bound to asio
// sockets, and going through them also covers their read / write / close paths.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "server/asio.h"

namespace pulse::fuzz {

struct Outcome {
  std::string received;      // what the server sent, its first `keep` bytes
  size_t received_size = 0;  // all of it
  bool server_closed = false;
};

class Loopback {
 public:
  // `live`: the listener's count of live connections, which must go back to what it was once
  // the client is gone (a connection that outlives its socket is a leak).
  Loopback(boost::asio::io_context& io, uint16_t port, std::function<size_t()> live)
      : io_(io), port_(port), live_(std::move(live)) {}

  // One connection: writes `parts` in order (the stream cut in writes of `chunk` bytes, with the
  // loop pumped between them; 0 = one write), pumps until the server is quiet or closes, half-
  // closes, pumps again, resets the socket, then pumps until the server let go of it.
  // `enough`: stop waiting as soon as what was received satisfies it.
  Outcome run(std::initializer_list<std::string_view> parts, size_t chunk = 0, size_t keep = 0,
              const std::function<bool(const std::string&)>& enough = {}) {
    Outcome out;
    if (verbose_) keep = std::max<size_t>(keep, 64 * 1024);
    if (gate_) keep = std::max<size_t>(keep, 4096);
    const size_t before = live_();
    int fd = connect_socket();
    std::string stream;
    for (auto p : parts) stream.append(p);
    size_t sent = 0;
    // The first part alone, then nothing more until the server answered it as gate_ wants.
    const size_t gated = gate_ && parts.size() > 1 ? parts.begin()->size() : 0;
    bool write_failed = false;
    int quiet = 0;
    // Pumps and reads until `quiet_limit` rounds in a row ran no handler and received nothing,
    // or the server closed, or `enough` holds.
    auto pump = [&](int quiet_limit) {
      quiet = 0;
      while (quiet < quiet_limit && !out.server_closed) {
        size_t ran = poll();
        size_t got = drain(fd, out, keep);
        if (enough && enough(out.received)) return;
        quiet = (ran == 0 && got == 0) ? quiet + 1 : 0;
      }
    };
    while (sent < stream.size() && !write_failed && !out.server_closed) {
      if (sent == gated && gated != 0) {
        pump_while_not(fd, out, keep, gate_);
        if (!gate_(out.received)) break;
      }
      const size_t end = sent < gated ? gated : stream.size();
      size_t n = chunk == 0 || sent < gated ? end - sent : std::min(chunk, end - sent);
      ssize_t w = ::send(fd, stream.data() + sent, n, MSG_NOSIGNAL);
      if (w > 0) {
        sent += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        write_failed = true;
      }
      pump(chunk == 0 ? 1 : 2);
      if (enough && enough(out.received)) break;
    }
    if (!(enough && enough(out.received))) pump(kQuietRounds);
    ::shutdown(fd, SHUT_WR);
    if (!(enough && enough(out.received))) pump(kQuietRounds);
    // A reset, not a FIN: no TIME_WAIT on this side, so a long run does not run out of ports.
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
    settle(before);
    if (verbose_) dump(out);
    return out;
  }

  // Pumps until the listener is back to `count` live connections; aborts when it does not get
  // there within a few seconds (timers of the server's own, such as a delayed close, end well
  // before that once the socket is gone).
  void settle(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (live_() > count) {
      if (poll() == 0) io_.run_one_for(std::chrono::milliseconds(1));
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "fuzz: a connection outlived its client (%zu live, expected %zu)\n",
                     live_(), count);
        std::abort();
      }
    }
  }

  // A client that waits for the server's answer to its handshake before it goes on (a
  // WebSocket client must wait for the 101): `ready` tells when what was received is enough.
  void set_gate(std::function<bool(const std::string&)> ready) { gate_ = std::move(ready); }

  size_t poll() {
    if (io_.stopped()) io_.restart();
    return io_.poll();
  }

 private:
  static constexpr int kQuietRounds = 3;

  // PULSE_FUZZ_VERBOSE=1: what the server answered to each input, printable, to check seeds.
  static void dump(const Outcome& out) {
    std::string text;
    for (char c : out.received) {
      if (c == '\n' || (c >= 0x20 && c < 0x7f)) {
        text.push_back(c);
      } else {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
        text += hex;
      }
    }
    std::fprintf(stderr, "--- %zu bytes received%s\n%s\n", out.received_size,
                 out.server_closed ? ", closed by the server" : "", text.c_str());
  }

  int connect_socket() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      // libFuzzer's timers interrupt it (SIGALRM); the connect goes on in the background.
      if (errno != EINTR) die("connect");
      pollfd p{fd, POLLOUT, 0};
      while (::poll(&p, 1, -1) < 0)
        if (errno != EINTR) die("poll");
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        die("connect");
      }
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  // Pumps until `ready` holds for what was received, the server closes or stays quiet.
  void pump_while_not(int fd, Outcome& out, size_t keep,
                      const std::function<bool(const std::string&)>& ready) {
    int quiet = 0;
    while (!ready(out.received) && !out.server_closed && quiet < kQuietRounds * 10) {
      size_t ran = poll();
      size_t got = drain(fd, out, keep);
      quiet = (ran == 0 && got == 0) ? quiet + 1 : 0;
    }
  }

  static size_t drain(int fd, Outcome& out, size_t keep) {
    size_t total = 0;
    char buf[65536];
    for (;;) {
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r > 0) {
        total += static_cast<size_t>(r);
        out.received_size += static_cast<size_t>(r);
        if (out.received.size() < keep)
          out.received.append(buf, std::min(static_cast<size_t>(r), keep - out.received.size()));
        continue;
      }
      if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        out.server_closed = true;
      return total;
    }
  }

  [[noreturn]] static void die(const char* what) {
    std::perror(what);
    std::abort();
  }

  boost::asio::io_context& io_;
  uint16_t port_;
  std::function<size_t()> live_;
  std::function<bool(const std::string&)> gate_;
  bool verbose_ = std::getenv("PULSE_FUZZ_VERBOSE") != nullptr;
};

}  // namespace pulse::fuzz
