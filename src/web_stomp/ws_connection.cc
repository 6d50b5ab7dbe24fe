#include "web_stomp/ws_connection.h"

#include <algorithm>

#include "base/log.h"
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
WsConnection<Next>::WsConnection(WebStompServer& server, Next stream,
                                 std::shared_ptr<asio::ssl::context> ctx, bool tls)
    : server_(server), ctx_(std::move(ctx)), ws_(std::move(stream)), tls_(tls) {}

template <class Next>
void WsConnection<Next>::start(httpd::UpgradeRequest request) {
  const auto& o = server_.options();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = o.handshake_timeout;
  t.idle_timeout =
      o.idle_timeout.count() > 0
          ? std::chrono::duration_cast<websocket::stream_base::duration>(o.idle_timeout)
          : websocket::stream_base::none();
  t.keep_alive_pings = false;  // as cowboy: an idle client is closed, never pinged
  ws_.set_option(t);
  if (o.compress) {
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    ws_.set_option(pmd);
  }
  ws_.read_message_max(o.max_message_size);
  ws_.binary(o.binary_frames);
  ws_.auto_fragment(false);
  subprotocol_ = choose_subprotocol(request);
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
  ws_.async_read(in_, [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
    if (self->torn_down_) return;
    if (ec) {
      // The peer's close, a dead socket, the idle timeout, an oversized message or text that
      // is not UTF-8 (Beast answers those two with a close 1009 / 1007, as cowboy does).
      spdlog::debug("Web-STOMP connection {}: {}", self->id_, ec.message());
      self->teardown();
      return;
    }
    auto d = self->in_.data();  // a flat_buffer: one contiguous piece
    self->session_->input(std::string_view(static_cast<const char*>(d.data()), d.size()));
    self->in_.consume(self->in_.size());
    if (self->session_->blocked()) {
      // Not reading: TCP back-pressure holds the publisher until the alarm clears.
      self->held_ = true;
      return;
    }
    self->read_more();
  });
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
    ws_.async_close(websocket::close_reason(websocket::close_code::normal, "STOMP died"),
                    [self = this->shared_from_this()](boost::system::error_code) {
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
void WsConnection<Next>::abort() {
  // Missed heart-beats, the login timeout: what was not yet being written is dropped, and the
  // close goes out at once (rabbit_web_stomp_handler's stop: 1000 "STOMP died").
  while (out_.size() > (writing_ ? 1u : 0u)) {
    pending_ -= std::min(pending_, out_.back().size());
    out_.pop_back();
  }
  close_after_flush();
}

template <class Next>
void WsConnection<Next>::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  if (session_) session_->closed();
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(ws_).socket();
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  // The server drops its reference on the next turn, after pending handlers saw torn_down_.
  if (session_)
    asio::post(socket.get_executor(), [self = this->shared_from_this()] {
      self->server_.stomp().connection_finished(self->id_);
    });
}

template class WsConnection<httpd::PlainStream>;
template class WsConnection<httpd::TlsStream>;

}  // namespace pulse::web_stomp
