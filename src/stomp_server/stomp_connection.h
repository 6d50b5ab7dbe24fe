#pragma once
// A STOMP connection over TCP, optionally TLS: the Transport of one Session. Reads feed the
// session; its output is buffered and written by one write at a time, coalescing everything
// queued meanwhile. A plain connection waits for readability and then reads (as AMQP
// connections do), so no read holds input the session has not seen: drain_input() can read
// the socket directly at shutdown.
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "server/asio.h"
#include "stomp_server/session.h"
#include "stomp_server/transport.h"
#include "tls/context.h"

namespace pulse::stomp_server {

class StompServer;

class StompConnection : public Transport, public std::enable_shared_from_this<StompConnection> {
 public:
  StompConnection(StompServer& server, SessionContext ctx, boost::asio::ip::tcp::socket socket,
                  uint64_t id, std::shared_ptr<tls::SslContext> tls);
  void start();
  Session& session() { return *session_; }
  std::shared_ptr<Session> session_ptr() const { return session_; }

  // Transport
  void send(std::string_view bytes) override;
  void close_after_flush() override;
  void abort() override;
  size_t pending_bytes() const override { return out_.size() + writing_.size(); }
  uint64_t bytes_sent() const override { return sent_; }
  void resume_reading() override;
  // Up to 64 reads of what the socket already holds (none over TLS, whose input is records
  // read by the TLS stream, nor while the session is blocked), then `then`.
  void drain_input(std::function<void()> then) override;

 private:
  void read_more();
  void on_readable();
  void on_read(boost::system::error_code ec, size_t n);
  void flush();
  void on_write(boost::system::error_code ec, size_t n);
  void teardown();

  StompServer& server_;
  uint64_t id_;
  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<tls::SslContext> tls_context_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::asio::steady_timer handshake_timer_;
  std::shared_ptr<Session> session_;
  std::vector<char> in_ = std::vector<char>(64 * 1024);
  std::string out_, writing_;
  uint64_t sent_ = 0;
  bool writing_now_ = false;
  bool flush_posted_ = false;
  bool close_after_flush_ = false;
  bool torn_down_ = false;
  bool held_ = false;       // not read: its session is blocked by a resource alarm
  bool read_soon_ = false;  // the last read got input: try the next one without waiting
};

}  // namespace pulse::stomp_server
