#include "web_stomp/web_stomp_server.h"

#include <optional>

#include "base/listen.h"
#include "base/log.h"
#include "httpd/timeouts.h"
#include "tls/context.h"
#include "web_stomp/ws_connection.h"

namespace pulse::web_stomp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A connection to Web-STOMP's own listener before its upgrade: one request is read; the
// WebSocket path goes to the WebSocket, anything else is answered 404 and closed (the
// listener serves nothing else, as rabbitmq_web_stomp's cowboy router).
template <class Stream>
class Pending : public std::enable_shared_from_this<Pending<Stream>> {
 public:
  Pending(WebStompServer& server, Stream stream, std::shared_ptr<asio::ssl::context> ctx,
          std::shared_ptr<void> slot = nullptr)
      : server_(server), ctx_(std::move(ctx)), stream_(std::move(stream)), slot_(std::move(slot)) {}

  void start() {
    if constexpr (std::is_same_v<Stream, httpd::TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(server_.options().tls_handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](
                                                                  boost::system::error_code ec) {
        if (ec) {
          spdlog::debug("Web-STOMP: TLS handshake failed: {}", ec.message());
          beast::get_lowest_layer(self->stream_).close();
          return;
        }
        self->read();
      });
    } else {
      read();
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(64 * 1024);
    // A deadline the bytes trickling in do not move; a timer of its own, because the stream's
    // expiry closes the socket and a request cut within its headers gets a 408.
    beast::get_lowest_layer(stream_).expires_never();
    deadline_.expires_after(server_.options().request_timeout);
    deadline_.async_wait([w = this->weak_from_this()](boost::system::error_code ec) {
      auto self = w.lock();
      if (ec || !self) return;
      self->timed_out_ = true;
      beast::get_lowest_layer(self->stream_).cancel();
    });
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(boost::system::error_code ec) {
    deadline_.cancel();
    if (ec && timed_out_) {
      timed_out();
      return;
    }
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
          ec != bhttp::error::end_of_stream)
        answer(400, "Bad request: " + ec.message() + "\n");
      else
        beast::get_lowest_layer(stream_).close();
      return;
    }
    auto& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    if (target.substr(0, target.find('?')) != server_.path()) {
      answer(404, "Not found: Web-STOMP listens on " + server_.path() + "\n");
      return;
    }
    if constexpr (std::is_same_v<Stream, httpd::TlsStream>) {
      server_.upgrade(std::move(stream_), ctx_, parser_->release(), std::move(buffer_),
                      std::move(slot_));
    } else {
      server_.upgrade(std::move(stream_), parser_->release(), std::move(buffer_), std::move(slot_));
    }
  }

  // cowboy's request_timeout: a 408 once the request line is in, else just the close.
  void timed_out() {
    const auto d = buffer_.data();
    const bool request_line =
        !parser_->get().target().empty() ||  // Beast consumed a whole request line
        httpd::request_line_received(
            std::string_view(static_cast<const char*>(d.data()), d.size()));
    boost::system::error_code ignored;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ignored);
    spdlog::info(
        "Web-STOMP: closing the connection from {}:{}: no complete upgrade request "
        "within {} ms",
        peer.address().to_string(), peer.port(), server_.options().request_timeout.count());
    if (!request_line) {
      beast::get_lowest_layer(stream_).close();
      return;
    }
    linger_ = true;
    answer(408, "");
  }

 public:
  // Answers and closes. `upgrade_headers`: cowboy's 426 names the upgrade it wants.
  void answer(unsigned status, std::string body, bool upgrade_headers = false) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(status);
    res->set(bhttp::field::server, "pulsed");
    res->set(bhttp::field::content_type, "text/plain");
    if (upgrade_headers) {
      res->set(bhttp::field::connection, "upgrade");
      res->set(bhttp::field::upgrade, "websocket");
    }
    if (!upgrade_headers) res->keep_alive(false);
    if (body.empty()) res->erase(bhttp::field::content_type);
    res->body() = std::move(body);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_.options().handshake_timeout);
    bhttp::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res](boost::system::error_code ec, size_t) {
          if (!ec && self->linger_) return self->linger();
          auto& s = beast::get_lowest_layer(self->stream_).socket();
          s.shutdown(tcp::socket::shutdown_both, ec);
          s.close(ec);
        });
  }

 private:
  // After the 408, what the client still sends is read and dropped for a moment (cowboy's
  // linger_timeout, 1 s), so that unread input does not make the kernel reset the connection,
  // which can destroy the answer on its way.
  void linger() {
    auto& l = beast::get_lowest_layer(stream_);
    boost::system::error_code ec;
    l.socket().shutdown(tcp::socket::shutdown_send, ec);
    l.expires_after(std::chrono::seconds(1));
    drop_input();
  }

  void drop_input() {
    buffer_.consume(buffer_.size());
    beast::get_lowest_layer(stream_).async_read_some(
        buffer_.prepare(4096),
        [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
          if (!ec) return self->drop_input();
          boost::system::error_code ignored;
          beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
  }

  WebStompServer& server_;
  std::shared_ptr<asio::ssl::context> ctx_;  // before stream_, which is made with it
  Stream stream_;
  asio::steady_timer deadline_{stream_.get_executor()};  // the upgrade request's (read())
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<void> slot_;  // released when this is gone, unless passed on
  bool timed_out_ = false;
  bool linger_ = false;  // the answer cuts the request short: linger() before closing
};

// What cowboy_websocket refuses before a handshake: not an upgrade (426 with the upgrade it
// wants on HTTP/1.1, 400 otherwise), or no key / a WebSocket version other than 13 (400; Beast
// would answer 426 for the version). 0: go on.
unsigned refusal(const httpd::UpgradeRequest& req, std::string& why) {
  auto has = [&](bhttp::field f, const char* token) {
    auto it = req.find(f);
    return it != req.end() && bhttp::token_list{it->value()}.exists(token);
  };
  if (req.version() != 11 || req.method() != bhttp::verb::get ||
      !has(bhttp::field::connection, "upgrade") || !has(bhttp::field::upgrade, "websocket")) {
    why =
        "Upgrade required: a WebSocket handshake (GET with Connection: upgrade and Upgrade: "
        "websocket) is expected here\n";
    return req.version() == 11 ? 426 : 400;
  }
  if (req.find(bhttp::field::sec_websocket_key) == req.end()) {
    why = "Bad request: no Sec-WebSocket-Key\n";
    return 400;
  }
  auto v = req.find(bhttp::field::sec_websocket_version);
  if (v == req.end() || v->value() != "13") {
    why = "Bad request: Sec-WebSocket-Version 13 is expected\n";
    return 400;
  }
  return 0;
}

}  // namespace

WebStompServer::WebStompServer(asio::io_context& io, stomp_server::StompServer& stomp,
                               WebStompOptions options, stomp_server::StompOptions stomp_options)
    : io_(io),
      stomp_(stomp),
      options_(std::move(options)),
      stomp_options_(std::move(stomp_options)) {
  // rabbit_web_stomp_handler always starts its processor with implicit_connect off.
  stomp_options_.implicit_connect = false;
}

// One of Web-STOMP's own listeners and its connections' count. Shared with the connections'
// slots, which may outlive the server (server and acceptor are then null).
struct WebStompServer::Listener {
  WebStompServer* server;
  tcp::acceptor* acceptor;
  std::shared_ptr<tls::ContextHolder> tls;
  size_t open = 0;
  bool accepting = false;  // an async_accept is outstanding
};

WebStompServer::~WebStompServer() {
  for (auto& l : listeners_) {
    l->server = nullptr;
    l->acceptor = nullptr;
  }
}

Result<tcp::endpoint> WebStompServer::listen(const std::string& host, uint16_t port) {
  return listen_tls(host, port, nullptr);
}

Result<tcp::endpoint> WebStompServer::listen_tls(const std::string& host, uint16_t port,
                                                 std::shared_ptr<tls::ContextHolder> tls) {
  auto acceptor = open_acceptor(io_, host, port, tls ? "Web-STOMP over TLS" : "Web-STOMP");
  if (!acceptor) return std::move(acceptor).error();
  tcp::endpoint bound = (*acceptor)->local_endpoint();
  acceptors_.push_back(std::move(*acceptor));
  listeners_.push_back(std::make_shared<Listener>(
      Listener{this, acceptors_.back().get(), std::move(tls), 0, false}));
  accept(listeners_.back());
  return bound;
}

void WebStompServer::accept(const std::shared_ptr<Listener>& l) {
  if (shutting_down_ || l->accepting || !l->acceptor) return;
  // ranch's max_connections: no accept past the limit; a slot's release calls here again.
  if (options_.max_connections && l->open >= *options_.max_connections) return;
  l->accepting = true;
  l->acceptor->async_accept([this, l](boost::system::error_code ec, tcp::socket socket) {
    l->accepting = false;
    if (ec == asio::error::operation_aborted || shutting_down_) return;
    std::shared_ptr<void> slot;
    if (!ec) {
      ++l->open;
      slot = std::shared_ptr<void>(nullptr, [l](void*) {
        --l->open;
        if (l->server) l->server->accept(l);
      });
    }
    if (ec) {
      // Held while accept_failed() waits, so that a released slot starts no second accept.
      l->accepting = true;
      accept_failed(*l->acceptor, ec, l->tls ? "Web-STOMP over TLS" : "Web-STOMP", [this, l] {
        l->accepting = false;
        accept(l);
      });
      return;
    } else if (!l->tls) {
      std::make_shared<Pending<httpd::PlainStream>>(*this, httpd::PlainStream(std::move(socket)),
                                                    nullptr, std::move(slot))
          ->start();
    } else if (auto ctx = l->tls->current()) {
      // The context of the moment: a SIGHUP reload reaches new connections only.
      std::make_shared<Pending<httpd::TlsStream>>(*this, httpd::TlsStream(std::move(socket), *ctx),
                                                  ctx, std::move(slot))
          ->start();
    }
    accept(l);
  });
}

void WebStompServer::upgrade(httpd::PlainStream stream, httpd::UpgradeRequest request,
                             beast::flat_buffer leftover) {
  upgrade(std::move(stream), std::move(request), std::move(leftover), std::shared_ptr<void>());
}

void WebStompServer::upgrade(httpd::TlsStream stream, std::shared_ptr<asio::ssl::context> context,
                             httpd::UpgradeRequest request, beast::flat_buffer leftover) {
  upgrade(std::move(stream), std::move(context), std::move(request), std::move(leftover),
          std::shared_ptr<void>());
}

void WebStompServer::upgrade(httpd::PlainStream stream, httpd::UpgradeRequest request,
                             beast::flat_buffer leftover, std::shared_ptr<void> slot) {
  if (shutting_down_) return;
  std::string why;
  if (unsigned status = refusal(request, why)) {
    std::make_shared<Pending<httpd::PlainStream>>(*this, std::move(stream), nullptr,
                                                  std::move(slot))
        ->answer(status, why, status == 426);
    return;
  }
  auto c = std::make_shared<WsConnection<httpd::PlainStream>>(*this, std::move(stream),
                                                              std::move(leftover), nullptr, false);
  c->hold(std::move(slot));
  c->start(std::move(request));
}

void WebStompServer::upgrade(httpd::TlsStream stream, std::shared_ptr<asio::ssl::context> context,
                             httpd::UpgradeRequest request, beast::flat_buffer leftover,
                             std::shared_ptr<void> slot) {
  if (shutting_down_) return;
  std::string why;
  if (unsigned status = refusal(request, why)) {
    std::make_shared<Pending<httpd::TlsStream>>(*this, std::move(stream), std::move(context),
                                                std::move(slot))
        ->answer(status, why, status == 426);
    return;
  }
  auto c = std::make_shared<WsConnection<httpd::TlsStream>>(
      *this, std::move(stream), std::move(leftover), std::move(context), true);
  c->hold(std::move(slot));
  c->start(std::move(request));
}

void WebStompServer::shutdown() {
  shutting_down_ = true;
  for (auto& l : listeners_) l->server = nullptr;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

}  // namespace pulse::web_stomp
