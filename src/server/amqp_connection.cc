#include "server/amqp_connection.h"

#include "base/log.h"
#include "server/channel.h"
#include "server/server.h"

namespace pulse::server {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr size_t kReadChunk = 64 * 1024;
}

AmqpConnection::AmqpConnection(Server& server, asio::ip::tcp::socket socket, uint64_t id)
    : server_(server),
      socket_(std::move(socket)),
      id_(id),
      handshake_timer_(server.io()),
      heartbeat_timer_(server.io()),
      close_timer_(server.io()) {}

AmqpConnection::~AmqpConnection() = default;

broker::Broker& AmqpConnection::broker() { return server_.broker(); }
auth::AuthStore& AmqpConnection::auth() { return server_.auth(); }
const ServerOptions& AmqpConnection::options() const { return server_.options(); }

void AmqpConnection::start() {
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  last_recv_ = last_send_ = std::chrono::steady_clock::now();
  handshake_timer_.expires_after(std::chrono::milliseconds(options().handshake_timeout_ms));
  handshake_timer_.async_wait([self = weak_from_this()](boost::system::error_code ec) {
    auto c = self.lock();
    if (ec || !c) return;
    if (c->state_ != State::kRunning && c->state_ != State::kClosed) {
      spdlog::info("connection {}: handshake timeout, closing", c->id_);
      c->shutdown_socket();
    }
  });
  in_.resize(kReadChunk);
  read_more();
}

void AmqpConnection::read_more() {
  if (in_.size() - in_len_ < kReadChunk / 2) in_.resize(in_len_ + kReadChunk);
  socket_.async_read_some(asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                            if (ec) {
                              self->teardown();
                              return;
                            }
                            self->on_read(n);
                          });
}

void AmqpConnection::on_read(size_t n) {
  in_len_ += n;
  last_recv_ = std::chrono::steady_clock::now();
  bool keep_going = process_input();
  flush();
  if (keep_going && state_ != State::kClosed) read_more();
}

bool AmqpConnection::process_input() {
  size_t pos = 0;
  if (state_ == State::kHeader) {
    if (in_len_ < amqp::kProtocolHeader.size()) {
      // Anything that cannot become a valid header is refused at once.
      if (std::string_view(reinterpret_cast<char*>(in_.data()), in_len_) !=
          amqp::kProtocolHeader.substr(0, in_len_)) {
        in_len_ = amqp::kProtocolHeader.size();
      } else {
        return true;
      }
    }
    if (std::string_view(reinterpret_cast<char*>(in_.data()), 8) != amqp::kProtocolHeader) {
      out_.append(amqp::kProtocolHeader);
      close_after_flush_ = true;
      state_ = State::kClosed;
      return false;
    }
    pos = 8;
    send_start();
    state_ = State::kStartOk;
  }
  while (state_ != State::kClosed) {
    // Before tune-ok the client may only send frames up to the minimum frame size.
    uint32_t limit = state_ == State::kStartOk || state_ == State::kTuneOk
                         ? std::max<uint32_t>(amqp::kFrameMinSize, options().frame_max)
                         : frame_max_;
    auto d = amqp::decode_frame(std::span<const uint8_t>(in_.data() + pos, in_len_ - pos), limit);
    if (d.status == amqp::DecodeStatus::kNeedMore) break;
    if (d.status == amqp::DecodeStatus::kError) {
      connection_error(d.error.code, d.error.text);
      // Nothing after a framing error can be trusted.
      in_len_ = 0;
      return state_ != State::kClosed;
    }
    pos += d.consumed;
    if (state_ == State::kClosing) {
      // Only close / close-ok matter once we sent connection.close.
      if (d.frame.type == amqp::kFrameMethod && d.frame.channel == 0) {
        auto m = amqp::decode_method(d.frame.payload);
        if (m && (std::holds_alternative<amqp::ConnectionCloseOk>(*m) ||
                  std::holds_alternative<amqp::ConnectionClose>(*m))) {
          if (std::holds_alternative<amqp::ConnectionClose>(*m))
            amqp::append_method_frame(out_, 0, amqp::ConnectionCloseOk{});
          close_after_flush_ = true;
          state_ = State::kClosed;
          break;
        }
      }
      continue;
    }
    handle_frame(d.frame);
  }
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, in_len_ - pos);
    in_len_ -= pos;
  }
  // A frame larger than our buffer needs room to arrive whole.
  if (in_len_ == in_.size()) in_.resize(in_.size() * 2);
  for (auto& [id, ch] : channels_) ch->end_of_batch();
  std::erase_if(channels_, [](const auto& e) { return e.second->finished(); });
  return state_ != State::kClosed;
}

void AmqpConnection::handle_frame(const amqp::FrameView& f) {
  if (f.type == amqp::kFrameHeartbeat) {
    if (f.channel != 0) {
      connection_error(amqp::kCommandInvalid, "COMMAND_INVALID - heartbeat frame on non-zero channel");
    }
    return;
  }
  if (f.type != amqp::kFrameMethod && f.type != amqp::kFrameHeader && f.type != amqp::kFrameBody) {
    connection_error(amqp::kFrameError, "FRAME_ERROR - unknown frame type " + std::to_string(f.type));
    return;
  }
  if (f.channel == 0 || state_ != State::kRunning) {
    if (f.type != amqp::kFrameMethod) {
      connection_error(amqp::kUnexpectedFrame,
                       "UNEXPECTED_FRAME - expected method frame, got non method frame instead");
      return;
    }
    if (f.channel != 0) {
      connection_error(amqp::kChannelError, "CHANNEL_ERROR - expected 'connection.open'");
      return;
    }
    auto m = amqp::decode_method(f.payload);
    if (!m) {
      connection_error(m.error().code, m.error().text, m.error().class_id, m.error().method_id);
      return;
    }
    handle_connection_method(*m);
    return;
  }
  if (f.channel > channel_max_ && channel_max_ != 0) {
    connection_error(amqp::kChannelError, "CHANNEL_ERROR - channel id " +
                                              std::to_string(f.channel) +
                                              " above negotiated channel_max");
    return;
  }
  auto it = channels_.find(f.channel);
  if (it == channels_.end() || it->second->finished()) {
    if (f.type != amqp::kFrameMethod) {
      connection_error(amqp::kChannelError, "CHANNEL_ERROR - expected 'channel.open'");
      return;
    }
    auto m = amqp::decode_method(f.payload);
    if (!m) {
      connection_error(m.error().code, m.error().text, m.error().class_id, m.error().method_id);
      return;
    }
    if (!std::holds_alternative<amqp::ChannelOpen>(*m)) {
      connection_error(amqp::kChannelError, "CHANNEL_ERROR - expected 'channel.open'",
                       amqp::class_id_of(*m), amqp::method_id_of(*m));
      return;
    }
    channels_[f.channel] = std::make_unique<Channel>(*this, f.channel);
    amqp::append_method_frame(out_, f.channel, amqp::ChannelOpenOk{});
    return;
  }
  it->second->handle_frame(f);
}

}  // namespace pulse::server
