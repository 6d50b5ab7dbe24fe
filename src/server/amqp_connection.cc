#include "server/amqp_connection.h"

#include <algorithm>
#include <cstring>

#include "amqp/basic_frames.h"
#include "amqp/error_text.h"
#include "base/log.h"
#include "server/channel.h"
#include "server/connection_limits.h"
#include "server/connection_tls.h"
#include "server/server.h"

namespace pulse::server {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
// A connection keeps an input buffer only while it holds part of a frame; past this capacity
// an emptied buffer is given back, so idle connections cost no buffer memory.
constexpr size_t kKeepInputCapacity = 4096;
}  // namespace

AmqpConnection::AmqpConnection(Server& server, asio::ip::tcp::socket socket, uint64_t id,
                               std::shared_ptr<asio::ssl::context> tls_context)
    : server_(server),
      socket_(std::move(socket)),
      id_(id),
      handshake_timer_(server.io()),
      heartbeat_timer_(server.io()),
      close_timer_(server.io()),
      gather_timer_(server.io()),
      consumer_timer_(server.io()) {
  if (tls_context) tls_ = std::make_unique<ConnectionTls>(socket_, std::move(tls_context));
}

AmqpConnection::~AmqpConnection() = default;

broker::Broker& AmqpConnection::broker() {
  return server_.broker();
}
auth::AuthStore& AmqpConnection::auth() {
  return server_.auth();
}
const ServerOptions& AmqpConnection::options() const {
  return server_.options();
}

void AmqpConnection::start() {
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // Once: asio issues an ioctl(FIONBIO) on every call, so not once per read.
  socket_.non_blocking(true, ec);
  connected_at_ = std::chrono::system_clock::now();
  peer_ = socket_.remote_endpoint(ec);
  local_ = socket_.local_endpoint(ec);
  last_recv_ = last_send_ = std::chrono::steady_clock::now();
  handshake_timer_.expires_after(std::chrono::milliseconds(options().handshake_timeout_ms));
  handshake_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    auto c = self.lock();
    if (ec || !c) return;
    // Like RabbitMQ, the timeout only concerns a handshake still in progress: a connection that
    // is already closing or discarding input has its own timer.
    if (c->state_ < State::kRunning) {
      if (c->tls_ && !c->tls_->established) {
        spdlog::warn("connection {} ({}): TLS handshake timeout, closing", c->id_, c->peer_text());
      } else {
        spdlog::info("connection {}: handshake timeout, closing", c->id_);
      }
      c->shutdown_socket();
    }
  });
  if (tls_) return start_tls();
  read_more();
}

void AmqpConnection::read_more() {
  // Unblocking and draining may both ask to resume; only one read may be outstanding.
  if (read_in_flight_ || torn_down_) return;
  if (tls_) return tls_read_more();
  read_in_flight_ = true;
  if (recently_read_) {
    // A connection that just delivered data likely has more: try reading at once (on a later
    // turn of the loop, for fairness) instead of paying an epoll round trip per read, as asio's
    // own speculative reads do. A read that finds nothing falls back to waiting.
    recently_read_ = false;
    auto again = [self = shared_from_this()] {
      self->read_in_flight_ = false;
      self->on_readable();
    };
    if (EventLoop* loop = server_.event_loop()) {
      loop->next_turn(std::move(again));
    } else {
      asio::post(server_.io(), std::move(again));
    }
    return;
  }
  // Wait for readability, then read into the loop's shared scratch buffer: no connection
  // owns a read buffer while it waits, which is most of the time for most connections.
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       self->read_in_flight_ = false;
                       if (ec) {
                         self->teardown();
                         return;
                       }
                       self->on_readable();
                     });
}

void AmqpConnection::on_readable() {
  if (torn_down_) return;
  std::vector<uint8_t>& scratch = server_.read_scratch();
  boost::system::error_code ec;
  const size_t n = socket_.read_some(asio::buffer(scratch), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    recently_read_ = false;
    read_more();
    return;
  }
  if (ec) {
    teardown();
    return;
  }
  recently_read_ = true;
  consume_input(scratch.data(), n);
}

void AmqpConnection::drain_input() {
  // A TLS connection's input is records, not frames; a blocked or paused one is not being
  // read on purpose. The bound keeps a client that streams at the shutdown from holding it.
  if (tls_ || torn_down_ || blocked_ || read_paused_ || state_ != State::kRunning) return;
  std::vector<uint8_t>& scratch = server_.read_scratch();
  for (int reads = 0; reads < 64 && state_ == State::kRunning && !blocked_; ++reads) {
    boost::system::error_code ec;
    if (socket_.available(ec) == 0 || ec) return;
    const size_t n = socket_.read_some(asio::buffer(scratch), ec);
    if (ec) return;
    consume_input(scratch.data(), n);
  }
}

void AmqpConnection::consume_input(const uint8_t* data, size_t n) {
  last_recv_ = std::chrono::steady_clock::now();
  // Input the peer sent without waiting for us (a publisher without confirms) may be gathered
  // by the loop; input that may answer something we wrote (a reply, a confirm, a delivery) is
  // never delayed.
  server_.note_ingress(n, !wrote_since_read_);
  wrote_since_read_ = false;
  io_counters_.recv_oct += n;
  ++io_counters_.recv_cnt;
  bool keep_going;
  if (in_len_ == 0) {
    // The common case: frames are handled straight from the read buffer (the loop's scratch
    // buffer, or the TLS buffer) and only a trailing partial frame is kept.
    const size_t used = process_input(std::span<const uint8_t>(data, n), keep_going);
    if (keep_going && used < n) {
      in_.assign(data + static_cast<ptrdiff_t>(used), data + static_cast<ptrdiff_t>(n));
      in_len_ = n - used;
    }
  } else {
    // A frame straddles the previous read: complete it from this read, then handle the rest
    // of the read in place, so that only the straddling frame is copied.
    const size_t take = straddle_take(data, n);
    in_.resize(in_len_ + take);
    std::memcpy(in_.data() + in_len_, data, take);
    in_len_ += take;
    size_t used = process_input(std::span<const uint8_t>(in_.data(), in_len_), keep_going);
    if (used > 0) {
      std::memmove(in_.data(), in_.data() + used, in_len_ - used);
      in_len_ -= used;
    }
    if (!keep_going) in_len_ = 0;
    if (keep_going && take < n && must_block()) {
      // Input stopped at a publish: the rest of the read waits behind what in_ still holds.
      in_.resize(in_len_);
      in_.insert(in_.end(), data + static_cast<ptrdiff_t>(take), data + static_cast<ptrdiff_t>(n));
      in_len_ = in_.size();
    } else if (keep_going && take < n) {
      // straddle_take() completed the frame, so nothing is left over in in_.
      const auto rest = std::span<const uint8_t>(data + take, n - take);
      used = process_input(rest, keep_going);
      if (keep_going && used < rest.size()) {
        in_.assign(rest.begin() + static_cast<ptrdiff_t>(used), rest.end());
        in_len_ = rest.size() - used;
      }
    }
    in_.resize(in_len_);
  }
  after_input(keep_going);
}

bool AmqpConnection::must_block() const {
  return block_pending_ && server_.alarmed() && state_ == State::kRunning;
}

void AmqpConnection::after_input(bool keep_going) {
  if (in_len_ == 0 && in_.capacity() > kKeepInputCapacity) std::vector<uint8_t>().swap(in_);
  if (keep_going && must_block()) {
    block_pending_ = false;
    blocked_ = true;
    if (cap_blocked_ && !blocked_notified_) {
      amqp::ConnectionBlocked b;
      b.reason = server_.blocked_reason();
      amqp::append_method_frame(out_.bytes(), 0, b);
      blocked_notified_ = true;
    }
    flush();
    return;  // not reading: TCP back-pressure holds the publisher until unblock()
  }
  block_pending_ = false;
  flush();
  if (!keep_going || state_ == State::kClosed) return;
  // A client that sends faster than it reads our replies is not read until they drain, so
  // its output buffer stays bounded.
  if (out_.size() + writing_.size() > 4 * options().max_output_backlog) {
    read_paused_ = true;
    return;
  }
  read_more();
}

size_t AmqpConnection::straddle_take(const uint8_t* data, size_t n) const {
  // Before the protocol header, or while the frame's own header is still incomplete, take it
  // all, as for any partial input.
  constexpr size_t kHeader = amqp::kFrameHeaderSize;
  if (state_ == State::kHeader || in_len_ + n < kHeader) return n;
  uint8_t head[kHeader];
  const size_t from_in = std::min(in_len_, kHeader);
  std::memcpy(head, in_.data(), from_in);
  std::memcpy(head + from_in, data, kHeader - from_in);
  const uint64_t total = uint64_t{amqp::frame_payload_size(head)} + amqp::kFrameOverhead;
  // A frame we already hold in full (several partial frames never happen: in_ keeps at most one).
  if (total <= in_len_) return 0;
  return static_cast<size_t>(std::min<uint64_t>(n, total - in_len_));
}

void AmqpConnection::unblock() {
  if (!blocked_ || torn_down_) return;
  blocked_ = false;
  last_recv_ = std::chrono::steady_clock::now();
  if (blocked_notified_) {
    amqp::append_method_frame(out_.bytes(), 0, amqp::ConnectionUnblocked{});
    blocked_notified_ = false;
    flush();
  }
  if (state_ == State::kClosed) return;
  if (in_len_ > 0) {
    resume_held_input();
  } else {
    read_more();
  }
}

void AmqpConnection::resume_held_input() {
  bool keep_going;
  const size_t used = process_input(std::span<const uint8_t>(in_.data(), in_len_), keep_going);
  if (keep_going) {
    in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(used));
    in_len_ = in_.size();
  } else {
    in_.clear();
    in_len_ = 0;
  }
  after_input(keep_going);
}

// The 8-byte protocol header: the bytes it used (0 while incomplete); false when the client
// was refused.
bool AmqpConnection::process_header(std::span<const uint8_t> data, size_t& used) {
  used = 0;
  const std::string_view got(reinterpret_cast<const char*>(data.data()), data.size());
  if (got.size() < amqp::kProtocolHeader.size()) {
    // Anything that cannot become a valid header is refused at once.
    if (got == amqp::kProtocolHeader.substr(0, got.size())) return true;
  } else {
    std::string_view header = got.substr(0, amqp::kProtocolHeader.size());
    // RabbitMQ also takes the AMQP 0-9 header ("AMQP" 1 1 0 9) as 0-9-1.
    if (header == amqp::kProtocolHeader || header == std::string_view("AMQP\x01\x01\x00\x09", 8)) {
      used = amqp::kProtocolHeader.size();
      send_start();
      state_ = State::kStarting;
      return true;
    }
  }
  out_.bytes().append(amqp::kProtocolHeader);
  terminate();
  return false;
}

size_t AmqpConnection::process_input(std::span<const uint8_t> data, bool& keep_going) {
  keep_going = true;
  size_t pos = 0;
  if (state_ == State::kHeader) {
    if (!process_header(data, pos)) {
      keep_going = false;
      return data.size();
    }
    if (state_ == State::kHeader) return 0;
  }
  while (state_ < State::kDiscarding) {
    // Until tune-ok the client is held to the minimum frame size (RabbitMQ's initial_frame_max);
    // like RabbitMQ we let a frame overshoot frame_max by the 8 bytes of frame overhead.
    uint32_t limit = state_ < State::kOpening ? amqp::kFrameMinSize : frame_max_;
    auto d = amqp::decode_frame(data.subspan(pos), limit, amqp::kFrameOverhead);
    if (d.status == amqp::DecodeStatus::kNeedMore) break;
    if (d.status == amqp::DecodeStatus::kError) {
      // We lost sync with the client: report it if the phase allows, then drop everything.
      connection_error(d.error);
      discard_then_close();
      break;
    }
    pos += d.consumed;
    handle_frame(d.frame);
    if (must_block()) break;  // the publish's content stays unread, as in RabbitMQ
  }
  if (state_ == State::kDiscarding) pos = data.size();
  for (auto& [id, ch] : channels_) ch->end_of_batch();
  std::erase_if(channels_, [](const auto& e) { return e.second->finished(); });
  keep_going = state_ != State::kClosed;
  return pos;
}

void AmqpConnection::handle_frame(const amqp::FrameView& f) {
  const amqp::FrameKind kind = amqp::analyze_frame(f);
  if (state_ == State::kClosing) {
    // Only channel-0 methods (close, close-ok) still mean something.
    if (f.channel == 0 && kind == amqp::FrameKind::kMethod) {
      auto m = amqp::decode_method(f.payload);
      if (m) handle_connection_method(*m);
    }
    return;
  }
  if (f.channel == 0) return handle_channel0_frame(f, kind);
  // Before connection.open nothing may use a channel (RabbitMQ does not even decode it).
  if (state_ != State::kRunning) return connection_error(amqp::unexpected_frame(f.type, f.payload));
  handle_channel_frame(f, kind);
}

void AmqpConnection::handle_channel0_frame(const amqp::FrameView& f, amqp::FrameKind kind) {
  switch (kind) {
    case amqp::FrameKind::kHeartbeat:
      return;
    case amqp::FrameKind::kInvalid:
      return connection_error(amqp::frame_error(f.type, f.payload, "unknown_frame"));
    case amqp::FrameKind::kHeader:
    case amqp::FrameKind::kBody:
      return connection_error(amqp::unexpected_frame(f.type, f.payload));
    case amqp::FrameKind::kMethod:
      break;
  }
  auto m = amqp::decode_method(f.payload);
  if (!m) return connection_error(m.error());
  handle_connection_method(*m);
}

size_t AmqpConnection::open_channel_count() const {
  return static_cast<size_t>(std::count_if(channels_.begin(), channels_.end(),
                                           [](const auto& e) { return !e.second->finished(); }));
}

void AmqpConnection::handle_channel_frame(const amqp::FrameView& f, amqp::FrameKind kind) {
  if (kind == amqp::FrameKind::kInvalid)
    return connection_error(amqp::frame_error(f.type, f.payload, "unknown_frame"));
  if (kind == amqp::FrameKind::kHeartbeat)
    return connection_error(amqp::unexpected_frame(f.type, f.payload));
  auto it = channels_.find(f.channel);
  if (kind == amqp::FrameKind::kMethod && amqp::is_method<amqp::BasicPublish>(f.payload) &&
      server_.alarmed()) {
    block_pending_ = true;  // basic.publish during a resource alarm
  }
  if (it != channels_.end() && !it->second->finished()) return it->second->handle_frame(f);
  // Any frame on an unused channel number starts a channel in RabbitMQ, so the limit is checked
  // first. channel_max bounds how many channels are open at once, not their numbers.
  if (channel_max_ != 0 && open_channel_count() >= channel_max_) {
    return connection_error(amqp::kNotAllowed, "NOT_ALLOWED - number of channels opened (" +
                                                   std::to_string(open_channel_count()) +
                                                   ") has reached the negotiated channel_max (" +
                                                   std::to_string(channel_max_) + ")");
  }
  if (auto s = check_channel_limit(server_, user_); !s) return connection_error(s.error());
  if (kind != amqp::FrameKind::kMethod) {
    return connection_error(
        amqp::kUnexpectedFrame,
        "UNEXPECTED_FRAME - expected method frame, got non method frame instead");
  }
  auto m = amqp::decode_method(f.payload);
  if (!m) return connection_error(m.error());
  if (!std::holds_alternative<amqp::ChannelOpen>(*m)) {
    return connection_error(amqp::kChannelError, "CHANNEL_ERROR - expected 'channel.open'",
                            amqp::class_id_of(*m), amqp::method_id_of(*m));
  }
  channels_[f.channel] = std::make_unique<Channel>(*this, f.channel);
  amqp::append_method_frame(out_.bytes(), f.channel, amqp::ChannelOpenOk{});
}

std::string AmqpConnection::name() const {
  boost::system::error_code ec1, ec2;
  auto peer = socket_.remote_endpoint(ec1);
  auto local = socket_.local_endpoint(ec2);
  if (ec1 || ec2) return "connection " + std::to_string(id_);
  return peer.address().to_string() + ":" + std::to_string(peer.port()) + " -> " +
         local.address().to_string() + ":" + std::to_string(local.port());
}

}  // namespace pulse::server
