#pragma once
// One WebSocket carrying one STOMP session, as rabbit_web_stomp_handler does: whatever arrives
// in text or binary messages is STOMP input (frames may span messages, a message may hold
// several); each frame and heart-beat the session sends is one message of the configured type.
// A session that ends closes the WebSocket with 1000 "STOMP died"; a closed WebSocket ends the
// session (its subscriptions, its unacknowledged messages requeued).
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "httpd/prefixed_stream.h"
#include "httpd/upgrade.h"
#include "stomp_server/session.h"
#include "stomp_server/transport.h"
#include "web_stomp/options.h"

namespace pulse::web_stomp {

class WebStompServer;

template <class Next>
class WsConnection : public stomp_server::Transport,
                     public std::enable_shared_from_this<WsConnection<Next>> {
 public:
  // `leftover`: what the HTTP reader read past the upgrade request (the client's first
  // WebSocket frames, when it did not wait for the 101): read before the socket.
  WsConnection(WebStompServer& server, Next stream, boost::beast::flat_buffer leftover,
               std::shared_ptr<boost::asio::ssl::context> ctx, bool tls);
  // Answers the upgrade request (101 with the chosen sub-protocol, or Beast's 400/426 naming
  // what is wrong), then starts the session.
  void start(httpd::UpgradeRequest request);
  // Its place under web_stomp.max_connections, released with this connection.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }

  // Transport
  void send(std::string_view bytes) override;
  void close_after_flush() override;
  void abort() override;
  size_t pending_bytes() const override { return pending_; }
  uint64_t bytes_sent() const override { return sent_; }
  void resume_reading() override;
  // Reads go on through Beast until what the socket held is handled (up to 4 MiB), then
  // `then`. Not over TLS (as AMQP and STOMP connections) nor while the session is blocked.
  void drain_input(std::function<void()> then) override;

 private:
  void on_accept(boost::system::error_code ec);
  void read_more();
  void on_read(boost::system::error_code ec);
  void handle_read(boost::system::error_code ec);
  // Ends the drain once no read completed since `reads` and the socket holds nothing more.
  void check_drained(uint64_t reads, int turns);
  void drained();
  // Drops what was not yet being written and closes with `reason`.
  void close_now(boost::beast::websocket::close_reason reason);
  void write_next();
  void teardown();

  WebStompServer& server_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;  // before ws_, which is made with it
  boost::beast::websocket::stream<httpd::PrefixedStream<Next>> ws_;
  bool tls_;
  uint64_t id_ = 0;
  std::string subprotocol_;
  std::shared_ptr<stomp_server::Session> session_;
  // The message being read: whole messages are STOMP input, as cowboy hands them over.
  boost::beast::flat_buffer in_;
  // web_stomp.ws_opts.idle_timeout, armed while a read waits: Beast's own idle timeout drops
  // the socket without the close frame (1000) cowboy sends.
  boost::asio::steady_timer idle_;
  uint64_t reads_ = 0;  // completed reads: an expiry for an earlier one is stale
  boost::beast::websocket::close_reason close_reason_{boost::beast::websocket::close_code::normal,
                                                      "STOMP died"};
  std::optional<stomp_server::ForcedCredentials> credentials_;
  bool bad_authorization_ = false;  // use_http_auth and no Basic credentials in Authorization
  std::deque<std::string> out_;
  size_t pending_ = 0;
  uint64_t sent_ = 0;
  bool writing_ = false;
  bool closing_ = false;  // close after the queued messages
  bool close_sent_ = false;
  bool torn_down_ = false;
  bool held_ = false;              // not read: its session is blocked by a resource alarm
  std::shared_ptr<void> slot_;     // its place under web_stomp.max_connections
  std::function<void()> drained_;  // drain_input's `then`, while the drain goes on
  uint64_t drain_from_ = 0;        // the session's input count when the drain began
  // The most a drain reads: as the 64 reads of 64 KiB of a STOMP connection's (a read here is
  // one WebSocket message, often one frame).
  static constexpr uint64_t kDrainBytes = 4 * 1024 * 1024;
};

// The sub-protocol rabbit_web_stomp_handler answers with: the highest of v10.stomp,
// v11.stomp and v12.stomp the client offered, or none (the upgrade still succeeds).
std::string choose_subprotocol(const httpd::UpgradeRequest& request);

}  // namespace pulse::web_stomp
