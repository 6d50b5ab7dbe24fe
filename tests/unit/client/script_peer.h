#pragma once
// The server side of a socketpair, scripted by a test: it writes exactly the bytes a broker
// would send and decodes what the client wrote. Not a mock of the client: the client under test
// runs its real socket, framing and codec code.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "amqp/frame.h"
#include "client/connection.h"
#include "client/socket.h"

namespace pulse::client::testing {

struct Frame {
  uint8_t type = 0;
  uint16_t channel = 0;
  std::string payload;
};

class ScriptPeer {
 public:
  ScriptPeer() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    client_fd_ = fds[0];
    fd_ = fds[1];
    int big = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    ::setsockopt(client_fd_, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  }
  ~ScriptPeer() {
    if (fd_ >= 0) ::close(fd_);
  }
  // The client's end (hand it to Connection::open_on once).
  Socket take_client_socket() { return Socket(std::exchange(client_fd_, -1)); }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

  void send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
  }
  template <typename M>
  void send_method(uint16_t channel, const M& m) {
    std::string out;
    amqp::append_method_frame(out, channel, m);
    send_raw(out);
  }
  void send_content(uint16_t channel, const amqp::BasicProperties& props, const std::string& body,
                    uint32_t frame_max = 131072) {
    std::string out;
    amqp::append_content(out, channel, props, body, frame_max);
    send_raw(out);
  }
  // Queues the broker's half of a successful handshake (start, tune, open-ok).
  void script_handshake(uint16_t channel_max = 0, uint32_t frame_max = 131072,
                        uint16_t heartbeat = 0, const char* mechanisms = "AMQPLAIN PLAIN") {
    amqp::ConnectionStart start;
    start.version_minor = 9;
    start.server_properties = {{"product", "script"}};
    start.mechanisms = mechanisms;
    start.locales = "en_US";
    send_method(0, start);
    amqp::ConnectionTune tune;
    tune.channel_max = channel_max;
    tune.frame_max = frame_max;
    tune.heartbeat = heartbeat;
    send_method(0, tune);
    send_method(0, amqp::ConnectionOpenOk{});
  }

  // Reads whatever the client wrote within `wait` and returns the complete frames (the protocol
  // header, when present, is checked and skipped).
  std::vector<Frame> read_frames(std::chrono::milliseconds wait = std::chrono::milliseconds(200)) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      in_.append(buf, static_cast<size_t>(n));
    }
    if (in_.rfind(std::string(amqp::kProtocolHeader), 0) == 0) in_.erase(0, 8);
    std::vector<Frame> frames;
    for (;;) {
      auto d = amqp::decode_frame(
          std::span(reinterpret_cast<const uint8_t*>(in_.data()), in_.size()), 0);
      if (d.status != amqp::DecodeStatus::kFrame) break;
      frames.push_back({d.frame.type, d.frame.channel,
                        std::string(reinterpret_cast<const char*>(d.frame.payload.data()),
                                    d.frame.payload.size())});
      in_.erase(0, d.consumed);
    }
    return frames;
  }
  // Reads frames until a method of type M shows up on `channel`; fails the test otherwise.
  template <typename M>
  M expect_method(uint16_t channel) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      for (auto& f : read_frames()) {
        if (f.type != amqp::kFrameMethod || f.channel != channel) continue;
        auto m = amqp::decode_method(
            std::span(reinterpret_cast<const uint8_t*>(f.payload.data()), f.payload.size()));
        if (m && std::holds_alternative<M>(*m)) return std::get<M>(*m);
      }
    }
    ADD_FAILURE() << "client never sent " << M::kName;
    return M{};
  }

 private:
  int fd_ = -1, client_fd_ = -1;
  std::string in_;
};

// A connected client over a ScriptPeer that finished the handshake.
inline std::unique_ptr<Connection> open_scripted(ScriptPeer& peer, ConnectionOptions o = {},
                                                 uint32_t frame_max = 131072,
                                                 uint16_t heartbeat = 0) {
  peer.script_handshake(0, frame_max, heartbeat);
  auto c = Connection::open_on(peer.take_client_socket(), o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().text);
  if (!c.ok()) return nullptr;
  peer.read_frames();  // drop the client's half of the handshake
  return std::move(*c);
}

// Opens a channel: queues channel.open-ok first, then calls open_channel().
inline Channel* open_scripted_channel(ScriptPeer& peer, Connection& c, uint16_t expected_id = 1) {
  peer.send_method(expected_id, amqp::ChannelOpenOk{});
  auto ch = c.open_channel();
  EXPECT_TRUE(ch.ok()) << (ch.ok() ? "" : ch.error().text);
  peer.read_frames();
  return ch.ok() ? *ch : nullptr;
}

}  // namespace pulse::client::testing
