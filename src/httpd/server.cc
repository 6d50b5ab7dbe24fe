// The only translation unit that includes Beast's HTTP server parts (heavy to compile):
// everything else sees Request and Response.
#include "httpd/server.h"

#include <cctype>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <type_traits>

#include "base/listen.h"
#include "base/log.h"
#include "httpd/upgrade.h"
#include "tls/context.h"

namespace pulse::httpd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The most one socket write of a response carries (see Session::write).
constexpr size_t kWritePiece = 128 * 1024;

// On every response. The CSP is rabbitmq_management's default policy (its UI needs inline
// and eval'd scripts); the other three RabbitMQ sends only when configured
// (management.headers.*), pulsed always: the API is never meant to be framed or sniffed.
template <class Res>
void set_security_headers(Res& res) {
  res.set("content-security-policy",
          "script-src 'self' 'unsafe-eval' 'unsafe-inline'; object-src 'self'");
  res.set("x-content-type-options", "nosniff");
  res.set("x-frame-options", "SAMEORIGIN");
  res.set("referrer-policy", "same-origin");
}

bool cors_allowed(const ServerOptions& o, std::string_view origin) {
  for (const auto& allowed : o.cors_allow_origins)
    if (allowed == "*" || allowed == origin) return true;
  return false;
}

// The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method) from an allowed
// origin, as rabbit_mgmt_cors gives it: the methods the API has, the headers asked for.
Response preflight(const ServerOptions& o, const bhttp::request<bhttp::string_body>& in) {
  Response r = empty_response(200);
  r.headers.emplace_back("access-control-max-age", std::to_string(o.cors_max_age));
  r.headers.emplace_back("access-control-allow-methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  if (auto it = in.find(bhttp::field::access_control_request_headers); it != in.end())
    r.headers.emplace_back("access-control-allow-headers", std::string(it->value()));
  return r;
}

std::string_view path_of(beast::string_view target) {
  std::string_view t(target.data(), target.size());
  return t.substr(0, t.find('?'));
}

// One connection, plain or TLS. A TLS session holds the context it was accepted with, so a
// reload of the listener's certificate never touches it.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(tcp::socket socket, std::shared_ptr<asio::ssl::context> ctx,
          std::shared_ptr<const Handler> handler, const ServerOptions& options,
          UpgradeHandler* upgrade)
      : ctx_(std::move(ctx)),
        stream_(make_stream(std::move(socket), ctx_.get())),
        deadline_(stream_.get_executor()),
        handler_(std::move(handler)),
        options_(options),
        upgrade_(upgrade) {}

  void start() {
    if constexpr (kTls) {
      // A client that never finishes (or never starts) its handshake, such as a plaintext
      // client waiting for an answer, is closed after the handshake timeout.
      lowest().expires_after(options_.handshake_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) {
              spdlog::debug("HTTPS: TLS handshake from {} failed: {}", self->peer(), ec.message());
              self->close(false);
              return;
            }
            self->read();
          });
    } else {
      read();
    }
  }

 private:
  static Stream make_stream(tcp::socket socket, asio::ssl::context* ctx) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ctx);
    } else {
      (void)ctx;
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  std::string peer() {
    boost::system::error_code ec;
    auto ep = lowest().socket().remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    // The headers' deadline, which the bytes trickling in do not move: a timer of its own,
    // because the stream's expiry closes the socket and the first request may get a 408.
    lowest().expires_never();
    timed_out_ = false;
    deadline_.expires_after(first_ ? options_.timeouts.request : options_.timeouts.idle);
    deadline_.async_wait([w = this->weak_from_this()](boost::system::error_code ec) {
      auto self = w.lock();
      if (ec || !self) return;
      self->timed_out_ = true;
      self->lowest().cancel();
    });
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    deadline_.cancel();
    if (ec && timed_out_) {
      headers_timed_out();
      return;
    }
    if (ec || parser_->is_done()) {
      on_read(ec);
      return;
    }
    // The body, within the idle timeout of the headers however it trickles in (cowboy's idle
    // timeout restarts with each piece, so a body sent a byte at a time never ends).
    lowest().expires_after(options_.timeouts.idle);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  // cowboy's answer when the headers do not come in time: on a connection's first request,
  // a 408 once its request line is in, else (and on later requests) just the close.
  void headers_timed_out() {
    const auto d = buffer_.data();
    const bool request_line =
        !parser_->get().target().empty() ||  // Beast consumed a whole request line
        request_line_received(std::string_view(static_cast<const char*>(d.data()), d.size()));
    spdlog::debug("{}: closing the connection from {}: no complete request headers within {} ms",
                  kTls ? "HTTPS" : "HTTP", peer(),
                  (first_ ? options_.timeouts.request : options_.timeouts.idle).count());
    if (!first_ || !request_line) {
      close(false);
      return;
    }
    cors_origin_.clear();
    keep_alive_ = false;
    head_ = false;
    version_ = 11;
    linger_ = true;
    write(empty_response(408));
  }

  void on_read(beast::error_code ec) {
    cors_origin_.clear();  // an error answer must not carry the previous request's CORS
    // Only an HTTP parse error gets an answer: the peer went away, timed out, or broke the
    // TLS layer otherwise, and nothing can be written to it.
    const bool http_error =
        ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
    if ((ec && !http_error) || ec == bhttp::error::end_of_stream) {
      close(false);
      return;
    }
    if (ec) {
      // A malformed or oversized request: answer, then close (the stream is out of sync).
      unsigned status = ec == bhttp::error::body_limit ? 413 : 400;
      Response r = status == 413 ? error_response(413, "bad_request", "request entity too large")
                                 : bad_request(ec.message());
      keep_alive_ = false;
      head_ = false;
      version_ = 11;
      write(std::move(r));
      return;
    }
    first_ = false;
    auto& in = parser_->get();
    if (upgrade_ && path_of(in.target()) == upgrade_->path()) {
      // The connection is the handler's from here; this session ends with this call.
      lowest().expires_never();
      if constexpr (kTls) {
        upgrade_->upgrade(std::move(stream_), ctx_, parser_->release(), std::move(buffer_));
      } else {
        upgrade_->upgrade(std::move(stream_), parser_->release(), std::move(buffer_));
      }
      return;
    }
    Request req;
    req.method = std::string(in.method_string());
    head_ = in.method() == bhttp::verb::head;
    if (head_) req.method = "GET";
    keep_alive_ = in.keep_alive();
    version_ = in.version();
    if (!parse_target(std::string_view(in.target().data(), in.target().size()), req)) {
      keep_alive_ = false;
      write(bad_request("malformed request target"));
      return;
    }
    if (auto it = in.find(bhttp::field::authorization); it != in.end())
      req.authorization = std::string(it->value());
    if (auto it = in.find("x-reason"); it != in.end()) req.x_reason = std::string(it->value());
    if (auto it = in.find(bhttp::field::content_type); it != in.end())
      req.content_type = std::string(it->value());
    req.target = std::string(in.target());
    for (const auto& f : in) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[std::move(name)] = std::string(f.value());
    }
    if (auto it = in.find(bhttp::field::if_none_match); it != in.end())
      req.if_none_match = std::string(it->value());
    boost::system::error_code pec;
    if (auto peer = lowest().socket().remote_endpoint(pec); !pec) {
      req.peer_address = peer.address().to_string();
      req.peer_loopback = peer.address().is_loopback();
    }
    if (auto it = in.find(bhttp::field::origin); it != in.end()) {
      std::string origin(it->value());
      if (cors_allowed(options_, origin)) cors_origin_ = std::move(origin);
    }
    if (!cors_origin_.empty() && in.method() == bhttp::verb::options &&
        in.find(bhttp::field::access_control_request_method) != in.end()) {
      write(preflight(options_, in));
      return;
    }
    req.body = std::move(in.body());
    lowest().expires_never();
    (*handler_)(std::move(req),
                [self = this->shared_from_this()](Response r) { self->write(std::move(r)); });
  }

  void write(Response r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(r.status);
    res->set(bhttp::field::server, options_.server_name);
    res->set(bhttp::field::vary, "origin");
    set_security_headers(*res);
    if (!cors_origin_.empty()) {
      res->set(bhttp::field::access_control_allow_origin, cors_origin_);
      res->set(bhttp::field::access_control_allow_credentials, "true");
    }
    for (auto& [k, v] : r.headers) res->set(k, v);
    if (!r.content_type.empty() && !(r.body.empty() && r.status == 204))
      res->set(bhttp::field::content_type, r.content_type);
    res->keep_alive(keep_alive_);
    size_t len = r.body.size();
    if (!head_) res->body() = std::move(r.body);
    if (r.status != 204 && r.status != 304) res->content_length(len);
    response_ = res;
    // Written in pieces: one write of a 10 MB listing into a loopback socket copied it all
    // within the call and held the loop for 25 ms. Each piece is its own asio operation, so
    // other clients are served between them.
    auto sr = std::make_shared<bhttp::serializer<false, bhttp::string_body>>(*res);
    sr->limit(kWritePiece);
    lowest().expires_after(options_.timeouts.idle);
    bhttp::async_write(stream_, *sr,
                       [self = this->shared_from_this(), res, sr](beast::error_code ec, size_t) {
                         self->response_.reset();
                         if (ec || !self->keep_alive_) {
                           self->close(!ec);
                           return;
                         }
                         self->read();
                       });
  }

  // `graceful`: pulsed ends a healthy connection (Connection: close), so a TLS session sends
  // its close_notify first (bounded by a short timeout); otherwise the socket just closes.
  void close(bool graceful) {
    if constexpr (kTls) {
      if (graceful) {
        lowest().expires_after(std::chrono::seconds(2));
        stream_.async_shutdown(
            [self = this->shared_from_this()](beast::error_code) { self->close(false); });
        return;
      }
    }
    if (graceful && linger_) return linger();
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }

  // After an answer to a request not read to its end (a 408): what the client still sends is
  // read and dropped for a moment, until it closes (cowboy's linger_timeout, 1 s), so that the
  // kernel does not answer unread input with a reset that can destroy the answer on its way.
  void linger() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().expires_after(std::chrono::seconds(1));
    drop_input();
  }

  void drop_input() {
    buffer_.consume(buffer_.size());
    lowest().async_read_some(buffer_.prepare(4096),
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (!ec) return self->drop_input();
                               self->linger_ = false;
                               self->close(false);
                             });
  }

  std::shared_ptr<asio::ssl::context> ctx_;  // before stream_, which is made with it
  Stream stream_;
  asio::steady_timer deadline_;  // the request headers' (read())
  std::shared_ptr<const Handler> handler_;
  ServerOptions options_;
  UpgradeHandler* upgrade_ = nullptr;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  std::string cors_origin_;  // the request's Origin when CORS allows it
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
  bool first_ = true;       // no request read yet: its headers get the request timeout
  bool timed_out_ = false;  // the headers' deadline passed (read())
  bool linger_ = false;     // the answer cuts a request short: linger() before closing
};

}  // namespace

struct Server::Listener {
  std::unique_ptr<tcp::acceptor> acceptor;
  std::shared_ptr<tls::ContextHolder> holder;  // null: plaintext
  std::shared_ptr<const Handler> handler;
  UpgradeHandler* upgrade = nullptr;
  ServerOptions options;  // the server's, with this listener's timeouts
};

Server::Server(asio::io_context& io, ServerOptions options)
    : io_(io), options_(std::move(options)) {}

Server::~Server() {
  shutdown();
}

Result<tcp::endpoint> Server::listen(const std::string& host, uint16_t port, Handler handler,
                                     const char* what, UpgradeHandler* upgrade,
                                     std::optional<Timeouts> timeouts) {
  return listen_tls(host, port, nullptr, std::move(handler), what, upgrade, timeouts);
}

Result<tcp::endpoint> Server::listen_tls(const std::string& host, uint16_t port,
                                         std::shared_ptr<tls::ContextHolder> holder,
                                         Handler handler, const char* what, UpgradeHandler* upgrade,
                                         std::optional<Timeouts> timeouts) {
  auto acceptor = open_acceptor(io_, host, port, what);
  if (!acceptor) return std::move(acceptor).error();
  tcp::endpoint bound = (*acceptor)->local_endpoint();
  auto l = std::make_unique<Listener>();
  l->acceptor = std::move(*acceptor);
  l->holder = std::move(holder);
  l->handler = std::make_shared<const Handler>(std::move(handler));
  l->upgrade = upgrade;
  l->options = options_;
  if (timeouts) l->options.timeouts = *timeouts;
  listeners_.push_back(std::move(l));
  accept(*listeners_.back());
  return bound;
}

void Server::accept(Listener& l) {
  l.acceptor->async_accept([this, &l](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || shutting_down_) return;
    if (ec) {
      accept_failed(*l.acceptor, ec, l.holder ? "HTTPS" : "HTTP", [this, &l] { accept(l); });
      return;
    } else if (!l.holder) {
      std::make_shared<Session<PlainStream>>(std::move(socket), nullptr, l.handler, l.options,
                                             l.upgrade)
          ->start();
    } else if (auto ctx = l.holder->current()) {
      std::make_shared<Session<TlsStream>>(std::move(socket), std::move(ctx), l.handler, l.options,
                                           l.upgrade)
          ->start();
    }  // else no context was ever loaded (cannot happen once listening): the socket closes
    accept(l);
  });
}

void Server::shutdown() {
  shutting_down_ = true;
  for (auto& l : listeners_) {
    boost::system::error_code ec;
    l->acceptor->close(ec);
  }
}

}  // namespace pulse::httpd
