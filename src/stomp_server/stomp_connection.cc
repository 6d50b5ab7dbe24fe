#include "stomp_server/stomp_connection.h"

#include "base/log.h"
#include "stomp_server/stomp_server.h"

namespace pulse::stomp_server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

PeerInfo peer_info(tcp::socket& s, bool tls) {
  PeerInfo p;
  boost::system::error_code ec;
  p.peer = s.remote_endpoint(ec);
  p.local = s.local_endpoint(ec);
  p.tls = tls;
  return p;
}

}  // namespace

StompConnection::StompConnection(StompServer& server, SessionContext ctx, tcp::socket socket,
                                 uint64_t id, std::shared_ptr<tls::SslContext> tls)
    : server_(server),
      id_(id),
      socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      handshake_timer_(socket_.get_executor()) {
  session_ = std::make_shared<Session>(ctx, *this, id, peer_info(socket_, tls_context_ != nullptr));
  if (tls_context_)
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_context_);
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  // Plain reads are made when the socket is readable (read_more) and must not block the loop.
  if (!tls_context_) socket_.non_blocking(true, ec);
}

void StompConnection::start() {
  spdlog::info("accepting STOMP connection {} ({} -> {}:{}){}", id_,
               session_->peer().peer.address().to_string() + ":" +
                   std::to_string(session_->peer().peer.port()),
               session_->peer().local.address().to_string(), session_->peer().local.port(),
               tls_ ? " over TLS" : "");
  session_->start();
  if (!tls_) {
    read_more();
    return;
  }
  handshake_timer_.expires_after(std::chrono::seconds(10));
  handshake_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    auto self = w.lock();
    if (!self || ec) return;
    spdlog::warn("STOMP connection {}: TLS handshake timed out", self->id_);
    self->abort();
  });
  tls_->async_handshake(
      asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
        self->handshake_timer_.cancel();
        if (self->torn_down_) return;
        if (ec) {
          spdlog::warn("STOMP connection {}: TLS handshake failed: {}", self->id_, ec.message());
          self->abort();
          return;
        }
        self->read_more();
      });
}

void StompConnection::read_more() {
  if (torn_down_ || close_after_flush_) return;
  if (tls_) {
    tls_->async_read_some(asio::buffer(in_),
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                            self->on_read(ec, n);
                          });
    return;
  }
  // Unlike async_read_some, whose read may complete with input queued behind other handlers
  // (the shutdown's), waiting for readability leaves the input in the socket until it is
  // handled. A read that got input is followed by another on the next turn of the loop, as
  // asio's speculative reads do; one that finds nothing waits.
  if (read_soon_) {
    read_soon_ = false;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_readable(); });
    return;
  }
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       if (ec) return self->on_read(ec, 0);
                       self->on_readable();
                     });
}

void StompConnection::on_readable() {
  // A drain at shutdown may have read the input and closed the session meanwhile.
  if (torn_down_ || close_after_flush_) return;
  boost::system::error_code ec;
  const size_t n = socket_.read_some(asio::buffer(in_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return read_more();
  read_soon_ = !ec;
  on_read(ec, n);
}

void StompConnection::drain_input(std::function<void()> then) {
  for (int reads = 0;
       reads < 64 && !tls_ && !torn_down_ && !close_after_flush_ && !session_->blocked(); ++reads) {
    boost::system::error_code ec;
    if (socket_.available(ec) == 0 || ec) break;
    const size_t n = socket_.read_some(asio::buffer(in_), ec);
    if (ec) break;
    session_->input(std::string_view(in_.data(), n));
  }
  flush();
  then();
}

void StompConnection::on_read(boost::system::error_code ec, size_t n) {
  if (torn_down_) return;
  if (ec) {
    teardown();
    return;
  }
  session_->input(std::string_view(in_.data(), n));
  flush();
  if (session_->blocked()) {
    // Not reading: TCP back-pressure holds the publisher until the alarm clears.
    held_ = true;
    return;
  }
  read_more();
}

void StompConnection::resume_reading() {
  if (!held_ || torn_down_) return;
  held_ = false;
  read_more();
}

void StompConnection::send(std::string_view bytes) {
  if (torn_down_) return;
  out_.append(bytes);
  // Deliveries made outside a read (a publish on another connection) are flushed on the next
  // loop turn, so everything queued meanwhile goes in one write.
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->flush();
    });
  }
}

void StompConnection::flush() {
  if (torn_down_ || writing_now_) return;
  if (out_.empty()) {
    if (close_after_flush_) teardown();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  writing_now_ = true;
  auto done = [self = shared_from_this()](boost::system::error_code ec, size_t n) {
    self->on_write(ec, n);
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(writing_), std::move(done));
  } else {
    asio::async_write(socket_, asio::buffer(writing_), std::move(done));
  }
}

void StompConnection::on_write(boost::system::error_code ec, size_t n) {
  writing_now_ = false;
  sent_ += n;
  writing_.clear();
  if (torn_down_) return;
  if (ec) {
    teardown();
    return;
  }
  if (out_.empty() && !close_after_flush_) session_->output_drained();
  flush();
}

void StompConnection::close_after_flush() {
  close_after_flush_ = true;
  flush();
}

void StompConnection::abort() {
  teardown();
}

void StompConnection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  handshake_timer_.cancel();
  session_->closed();
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  // The server drops its reference on the next turn, after pending handlers saw torn_down_.
  asio::post(socket_.get_executor(),
             [self = shared_from_this()] { self->server_.connection_finished(self->id_); });
}

}  // namespace pulse::stomp_server
