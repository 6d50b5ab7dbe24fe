#pragma once
// The TLS side of an AmqpConnection (private to server/): an ssl::stream over the connection's
// own socket, the context the connection started with, and its own read buffer. Plaintext
// connections have none of it (AmqpConnection::tls_ is null), so their path is unchanged.
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <vector>

#include "server/asio.h"
#include "tls/certificate.h"
#include "tls/context.h"

namespace pulse::server {

struct ConnectionTls {
  ConnectionTls(boost::asio::ip::tcp::socket& socket, std::shared_ptr<tls::SslContext> ctx)
      : context(std::move(ctx)), stream(socket, *context), close_timer(socket.get_executor()) {}

  // Kept for the connection's life: a reload (SIGHUP) replaces the listener's context for
  // new handshakes only.
  std::shared_ptr<tls::SslContext> context;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream;
  // Decrypted input lands here (not in the loop's shared scratch buffer: an async read on the
  // stream owns its buffer until it completes). One TLS record is at most 16 KiB.
  std::vector<uint8_t> in = std::vector<uint8_t>(16 * 1024);
  bool established = false;
  bool closing = false;  // close_notify sent: the socket closes when the peer answers or later
  boost::asio::steady_timer close_timer;
  tls::SessionInfo info;  // after the handshake
};

}  // namespace pulse::server
