// AMQPS: the TLS handshake, reads and writes on the ssl stream, and what TLS adds to the
// AMQP handshake (SASL EXTERNAL and the mechanisms offered). The plaintext path never comes here.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>

#include "base/log.h"
#include "server/amqp_connection.h"
#include "server/connection_tls.h"
#include "server/server.h"

namespace pulse::server {

namespace asio = boost::asio;

namespace {

std::string tls_failure(const boost::system::error_code& ec, SSL* ssl) {
  if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof)
    return "the client closed the connection";
  std::string why = ec.message();
  // "certificate verify failed" alone does not say what is wrong with the certificate.
  if (const long v = SSL_get_verify_result(ssl); v != X509_V_OK)
    why += std::string(" (") + X509_verify_cert_error_string(v) + ")";
  return why;
}

}  // namespace

void AmqpConnection::start_tls() {
  // The handshake timer armed by start() bounds the TLS handshake too: a client that never
  // speaks is closed after handshake_timeout like one that stops halfway through AMQP's.
  tls_->stream.async_handshake(
      asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
        if (self->torn_down_) return;
        if (ec) {
          // A plaintext client, an untrusted or expired client certificate, a missing one
          // with fail_if_no_peer_cert: OpenSSL has queued its alert, which asio sent.
          const std::string why = tls_failure(ec, self->tls_->stream.native_handle());
          // A port probe (connect, then close) is not worth a warning.
          const auto level =
              why == "the client closed the connection" ? spdlog::level::info : spdlog::level::warn;
          spdlog::log(level, "connection {} ({}): TLS handshake failed: {}", self->id_,
                      self->peer_text(), why);
          self->shutdown_socket();
          return;
        }
        self->tls_->established = true;
        self->tls_->info = tls::session_info(self->tls_->stream.native_handle());
        spdlog::debug("connection {}: TLS {} {} established", self->id_, self->tls_->info.protocol,
                      self->tls_->info.cipher);
        self->read_more();
      });
}

void AmqpConnection::tls_read_more() {
  if (!tls_->established) return;  // start_tls() starts reading after the handshake
  read_in_flight_ = true;
  tls_->stream.async_read_some(asio::buffer(tls_->in),
                               [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                                 self->read_in_flight_ = false;
                                 if (self->tls_->closing) {
                                   self->send_close_notify();
                                   return;
                                 }
                                 if (self->torn_down_) return;
                                 if (ec) {
                                   self->teardown();
                                   return;
                                 }
                                 self->consume_input(self->tls_->in.data(), n);
                               });
}

void AmqpConnection::write_tls() {
  auto done = [self = shared_from_this()](boost::system::error_code ec, size_t) {
    self->on_write(ec);
  };
  if (writing_.contiguous()) {
    asio::async_write(tls_->stream, asio::buffer(writing_.bytes()), std::move(done));
  } else {
    asio::async_write(tls_->stream, writing_.buffers(), std::move(done));
  }
}

bool AmqpConnection::tls_close_notify() {
  // Not while a write is in flight (its records would interleave with the alert), nor before
  // the handshake or after teardown (the socket is gone).
  if (!tls_ || !tls_->established || tls_->closing || write_in_flight_ || torn_down_) return false;
  tls_->closing = true;
  if (read_in_flight_) {
    // One operation reads the stream at a time: the pending read is cancelled and its handler
    // sends the close_notify.
    boost::system::error_code ec;
    socket_.cancel(ec);
  } else {
    send_close_notify();
  }
  return true;
}

void AmqpConnection::send_close_notify() {
  auto self = shared_from_this();
  tls_->stream.async_shutdown([self](boost::system::error_code) {
    self->tls_->close_timer.cancel();
    boost::system::error_code ec;
    self->socket_.close(ec);
  });
  // Clients rarely answer close_notify before closing: do not wait long for it.
  tls_->close_timer.expires_after(std::chrono::seconds(1));
  tls_->close_timer.async_wait([self](boost::system::error_code ec) {
    if (ec) return;
    self->socket_.close(ec);
  });
}

bool AmqpConnection::tls_closing() const {
  return tls_ && tls_->closing;
}

const tls::SessionInfo* AmqpConnection::tls_session() const {
  return tls_ && tls_->established ? &tls_->info : nullptr;
}

std::vector<std::string_view> AmqpConnection::offered_mechanisms() const {
  const auto& configured = options().auth_mechanisms;
  std::vector<std::string_view> out;
  for (std::string_view m : {"PLAIN", "EXTERNAL", "AMQPLAIN"}) {
    const bool listed =
        configured.empty() ? m != "EXTERNAL"
                           : std::find(configured.begin(), configured.end(), m) != configured.end();
    // rabbitmq_auth_mechanism_ssl offers EXTERNAL on TLS connections only (with or without a
    // client certificate: one without is refused at start-ok).
    if (listed && (m != "EXTERNAL" || tls_)) out.push_back(m);
  }
  return out;
}

std::string AmqpConnection::external_user() const {
  SSL* ssl = tls_ && tls_->established ? tls_->stream.native_handle() : nullptr;
  if (ssl == nullptr || SSL_get0_peer_certificate(ssl) == nullptr) {
    spdlog::error(
        "connection {}: EXTERNAL login refused: connection peer presented no TLS (x.509) "
        "certificate",
        id_);
    return {};
  }
  // With verify_peer a certificate that fails verification fails the handshake; this guards
  // against a context that did not verify.
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    spdlog::error("connection {}: EXTERNAL login refused: the client certificate is not verified",
                  id_);
    return {};
  }
  auto name = tls::peer_login_name(ssl, options().cert_login);
  if (!name) {
    spdlog::error("connection {}: EXTERNAL login refused: {}", id_, name.error().text);
    return {};
  }
  return *name;
}

}  // namespace pulse::server
