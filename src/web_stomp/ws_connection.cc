#include "web_stomp/ws_connection.h"

#include <algorithm>

#include "base/log.h"
#include "web_stomp/http_auth.h"
#include "web_stomp/web_stomp_server.h"

namespace pulse::web_stomp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

std::string choose_subprotocol(const httpd::UpgradeRequest& request) {
  std::string best;
  auto range = request.equal_range(beast::http::field::sec_websocket_protocol);
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view list(it->value().data(), it->value().size());
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view token = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if ((token == "v10.stomp" || token == "v11.stomp" || token == "v12.stomp") && token > best)
        best = token;
    }
  }
  return best;
}

template <class Next>
WsConnection<Next>::WsConnection(WebStompServer& server, Next stream, beast::flat_buffer leftover,
                                 std::shared_ptr<asio::ssl::context> ctx, bool tls)
    : server_(server),
      ctx_(std::move(ctx)),
      ws_(std::move(stream), std::move(leftover)),
      tls_(tls),
      idle_(ws_.get_executor()) {}

template <class Next>
void WsConnection<Next>::start(httpd::UpgradeRequest request) {
  const auto& o = server_.options();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = o.handshake_timeout;        // the upgrade, and a closing handshake
  t.idle_timeout = websocket::stream_base::none();  // idle_ (read_more), never
                                                    // pinged as cowboy
  t.keep_alive_pings = false;
  ws_.set_option(t);
  if (o.compress) {
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    ws_.set_option(pmd);
  }
  // No limit in Beast: on an oversized message it drops the socket (its
  // teardown stops reading after one chunk) and the client, still sending, may
  // never read the 1009; on_read checks.
  ws_.read_message_max(0);
  ws_.binary(o.binary_frames);
  ws_.auto_fragment(false);
  subprotocol_ = choose_subprotocol(request);
  if (o.use_http_auth) {
    if (auto it = request.find(beast::http::field::authorization); it != request.end()) {
      credentials_ = basic_credentials(std::string_view(it->value().data(), it->value().size()));
      bad_authorization_ = !credentials_;
    } else {
      // rabbit_web_stomp_handler: "We fall back to the default STOMP
      // credentials."
      const auto& so = server_.stomp_options();
      credentials_ = stomp_server::ForcedCredentials{so.default_login, so.default_passcode};
    }
  }
  ws_.set_option(
      websocket::stream_base::decorator([proto = subprotocol_](websocket::response_type& res) {
        res.set(beast::http::field::server, "pulsed");
        if (res.result() == beast::http::status::switching_protocols && !proto.empty())
          res.set(beast::http::field::sec_websocket_protocol, proto);
      }));
  ws_.async_accept(request, [self = this->shared_from_this()](boost::system::error_code ec) {
    self->on_accept(ec);
  });
}

template <class Next>
void WsConnection<Next>::on_accept(boost::system::error_code ec) {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  boost::system::error_code ignored;
  stomp_server::PeerInfo peer;
  peer.peer = socket.remote_endpoint(ignored);
  peer.local = socket.local_endpoint(ignored);
  peer.tls = tls_;
  peer.protocol_name = "Web STOMP";
  if (ec) {
    // Beast has answered the request (400 or 426 with the reason in the body).
    spdlog::info("Web-STOMP: refused upgrade from {}:{}: {}", peer.peer.address().to_string(),
                 peer.peer.port(), ec.message());
    torn_down_ = true;
    beast::get_lowest_layer(ws_).close();
    return;
  }
  auto& stomp = server_.stomp();
  if (!stomp.accepting()) {
    torn_down_ = true;
    beast::get_lowest_layer(ws_).close();
    return;
  }
  boost::system::error_code nd;
  socket.set_option(tcp::no_delay(true), nd);
  if (bad_authorization_) {
    // RabbitMQ's handler fails on it after the upgrade: its cowboy closes with
    // 1011.
    spdlog::warn(
        "Web-STOMP: closing the connection from {}:{}: its "
        "Authorization header holds no Basic "
        "credentials (web_stomp.use_http_auth)",
        peer.peer.address().to_string(), peer.peer.port());
    close_now(websocket::close_reason(websocket::close_code::internal_error,
                                      "Authorization: Basic credentials expected"));
    return;
  }
  peer.credentials = credentials_;
  id_ = stomp.next_id();
  session_ = std::make_shared<stomp_server::Session>(server_.session_context(), *this, id_, peer);
  stomp.add(id_, this->shared_from_this(), session_);
  spdlog::info("accepting Web-STOMP connection {} ({}:{} -> {}:{}){}{}", id_,
               peer.peer.address().to_string(), peer.peer.port(), peer.local.address().to_string(),
               peer.local.port(), tls_ ? " over TLS" : "",
               subprotocol_.empty() ? "" : ", sub-protocol " + subprotocol_);
  session_->start();
  read_more();
}

template <class Next>
void WsConnection<Next>::read_more() {
  if (torn_down_) return;
  const auto& o = server_.options();
  if (o.idle_timeout.count() > 0) {
    idle_.expires_after(o.idle_timeout);
    idle_.async_wait(
        [self = this->shared_from_this(), read = reads_](boost::system::error_code ec) {
          // A read that completed meanwhile disarmed it, even if cancel() came too
          // late.
          if (ec || read != self->reads_ || self->torn_down_ || self->closing_) return;
          // cowboy's idle timeout: a close 1000 without a reason.
          spdlog::info("Web-STOMP connection {}: nothing received for {} ms, closing", self->id_,
                       self->server_.options().idle_timeout.count());
          self->close_now(websocket::close_reason(websocket::close_code::normal, ""));
        });
  }
  // One byte past the limit tells an oversized message apart; the rest stays
  // unread.
  const size_t left = o.max_message_size - std::min(o.max_message_size, in_.size());
  ws_.async_read_some(in_, left < 64 * 1024 ? left + 1 : 64 * 1024,
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                        self->on_read(ec);
                      });
}

template <class Next>
void WsConnection<Next>::on_read(boost::system::error_code ec) {
  handle_read(ec);
  if (!drained_) return;
  // Posted after the next read started: a read Beast completes from what it already holds,
  // or from the socket at once, is handled before the check.
  if (session_ && session_->recv_oct() - drain_from_ >= kDrainBytes) return drained();
  asio::post(ws_.get_executor(),
             [self = this->shared_from_this(), r = reads_] { self->check_drained(r, 0); });
}

template <class Next>
void WsConnection<Next>::drain_input(std::function<void()> then) {
  if (tls_ || torn_down_ || closing_ || held_ || !session_) return then();
  drained_ = std::move(then);
  drain_from_ = session_->recv_oct();
  // A read that already completed waits in the loop's queue: the check comes after it.
  asio::post(ws_.get_executor(),
             [self = this->shared_from_this(), r = reads_] { self->check_drained(r, 0); });
}

template <class Next>
void WsConnection<Next>::check_drained(uint64_t reads, int turns) {
  if (!drained_ || reads != reads_) return;  // a later read posted its own check
  boost::system::error_code ec;
  const bool more = beast::get_lowest_layer(ws_).socket().available(ec) > 0 && !ec;
  // Input in the socket is read on one of the next turns, when the loop polls it.
  if (!more || torn_down_ || closing_ || held_ || turns >= 64) return drained();
  asio::post(ws_.get_executor(), [self = this->shared_from_this(), reads, turns] {
    self->check_drained(reads, turns + 1);
  });
}

template <class Next>
void WsConnection<Next>::drained() {
  auto then = std::move(drained_);
  drained_ = nullptr;
  then();
}

template <class Next>
void WsConnection<Next>::handle_read(boost::system::error_code ec) {
  ++reads_;
  idle_.cancel();
  if (torn_down_) return;
  if (ec) {
    // The peer's close, a dead socket, a close we started, or text that is not
    // UTF-8 (Beast answers it with a close 1007, as cowboy does).
    spdlog::debug("Web-STOMP connection {}: {}", id_, ec.message());
    teardown();
    return;
  }
  if (in_.size() > server_.options().max_message_size) {
    // cowboy's max_frame_size (a fragmented message counts whole): close 1009,
    // nothing of the message reaches the session. Beast's closing handshake
    // reads past the rest of it.
    spdlog::info(
        "Web-STOMP connection {}: a message over "
        "web_stomp.ws_opts.max_frame_size ({})",
        id_, server_.options().max_message_size);
    in_.consume(in_.size());
    close_now(websocket::close_reason(websocket::close_code::too_big, ""));
    return;
  }
  if (!ws_.is_message_done()) {
    read_more();
    return;
  }
  auto d = in_.data();  // a flat_buffer: one contiguous piece
  session_->input(std::string_view(static_cast<const char*>(d.data()), d.size()));
  in_.consume(in_.size());
  if (session_->blocked()) {
    // Not reading: TCP back-pressure holds the publisher until the alarm
    // clears.
    held_ = true;
    return;
  }
  read_more();
}

template <class Next>
void WsConnection<Next>::resume_reading() {
  if (!held_ || torn_down_) return;
  held_ = false;
  read_more();
}

template <class Next>
void WsConnection<Next>::send(std::string_view bytes) {
  if (torn_down_ || close_sent_) return;
  out_.emplace_back(bytes);
  pending_ += bytes.size();
  write_next();
}

template <class Next>
void WsConnection<Next>::write_next() {
  if (torn_down_ || writing_ || close_sent_) return;
  if (out_.empty()) {
    if (!closing_) return;
    close_sent_ = true;
    writing_ = true;
    ws_.async_close(close_reason_, [self = this->shared_from_this()](boost::system::error_code) {
      self->writing_ = false;
      self->teardown();
    });
    return;
  }
  writing_ = true;
  ws_.async_write(asio::buffer(out_.front()),
                  [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
                    self->writing_ = false;
                    self->sent_ += n;
                    self->pending_ -= std::min(self->pending_, self->out_.front().size());
                    self->out_.pop_front();
                    if (self->torn_down_) return;
                    if (ec) {
                      self->teardown();
                      return;
                    }
                    if (self->out_.empty() && !self->closing_) self->session_->output_drained();
                    self->write_next();
                  });
}

template <class Next>
void WsConnection<Next>::close_after_flush() {
  closing_ = true;
  write_next();
}

template <class Next>
void WsConnection<Next>::close_now(websocket::close_reason reason) {
  close_reason_ = std::move(reason);
  abort();
}

template <class Next>
void WsConnection<Next>::abort() {
  // Missed heart-beats, the login timeout: what was not yet being written is
  // dropped, and the close goes out at once (rabbit_web_stomp_handler's stop:
  // 1000 "STOMP died").
  while (out_.size() > (writing_ ? 1u : 0u)) {
    pending_ -= std::min(pending_, out_.back().size());
    out_.pop_back();
  }
  // Such a client may never answer the close frame (one that trickles in a
  // CONNECT a byte at a time goes on doing so): the socket closes 1 s after it,
  // not after the handshake timeout. cowboy closes without waiting at all.
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(1);
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  ws_.set_option(t);
  close_after_flush();
}

template <class Next>
void WsConnection<Next>::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  idle_.cancel();
  if (session_) session_->closed();
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(ws_).socket();
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  // The server drops its reference on the next turn, after pending handlers saw
  // torn_down_.
  if (session_)
    asio::post(socket.get_executor(), [self = this->shared_from_this()] {
      self->server_.stomp().connection_finished(self->id_);
    });
}

template class WsConnection<httpd::PlainStream>;
template class WsConnection<httpd::TlsStream>;

}  // namespace pulse::web_stomp
