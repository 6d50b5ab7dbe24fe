// The only translation unit that includes Beast (heavy to compile): everything else in http/
// sees Request and Response.
#include "http/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "base/listen.h"
#include "base/log.h"
#include "http/api.h"
#include "http/metrics.h"

namespace pulse::http {

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

bool cors_allowed(const HttpOptions& o, std::string_view origin) {
  for (const auto& allowed : o.cors_allow_origins)
    if (allowed == "*" || allowed == origin) return true;
  return false;
}

// The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method) from an allowed
// origin, as rabbit_mgmt_cors gives it: the methods the API has, the headers asked for.
Response preflight(const HttpOptions& o, const bhttp::request<bhttp::string_body>& in) {
  Response r = empty_response(200);
  r.headers.emplace_back("access-control-max-age", std::to_string(o.cors_max_age));
  r.headers.emplace_back("access-control-allow-methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  if (auto it = in.find(bhttp::field::access_control_request_headers); it != in.end())
    r.headers.emplace_back("access-control-allow-headers", std::string(it->value()));
  return r;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Api& api, const HttpOptions& options, bool metrics_only)
      : stream_(std::move(socket)), api_(api), options_(options), metrics_only_(metrics_only) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    cors_origin_.clear();  // an error answer must not carry the previous request's CORS
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      close();
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
    auto& in = parser_->get();
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
    boost::system::error_code pec;
    if (auto peer = stream_.socket().remote_endpoint(pec); !pec) {
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
    if (metrics_only_ && !is_metrics_path(req)) {
      write(not_found());
      return;
    }
    stream_.expires_never();
    api_.handle(std::move(req),
                [self = shared_from_this()](Response r) { self->write(std::move(r)); });
  }

  void write(Response r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(r.status);
    res->set(bhttp::field::server, "pulsed");
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
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_write(stream_, *sr,
                       [self = shared_from_this(), res, sr](beast::error_code ec, size_t) {
                         self->response_.reset();
                         if (ec || !self->keep_alive_) {
                           self->close();
                           return;
                         }
                         self->read();
                       });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Api& api_;
  HttpOptions options_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  bool metrics_only_ = false;
  std::string cors_origin_;  // the request's Origin when CORS allows it
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Api& api, HttpOptions options)
    : io_(io), api_(api), options_(options), stats_timer_(io) {
  api_.set_scheduler(this);
  sample_stats();
}

// A pass walks the queues in slices (stats.h); the next one starts an interval after this one
// started, or at once when a pass took longer than that.
void HttpServer::sample_stats() {
  const auto started = std::chrono::steady_clock::now();
  api_.stats().sample(*this, api_.broker(), [this, started] {
    if (shutting_down_) return;
    const auto& h = api_.hooks();
    ChannelStats::Source src;
    if (h.connection_ids) src.ids = h.connection_ids();
    src.connection = h.connection;
    src.channels = h.connection_channels;
    api_.channel_stats().sample(*this, std::move(src), [this, started] {
      if (shutting_down_) return;
      stats_timer_.expires_at(started + Stats::kInterval);
      stats_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || shutting_down_) return;
        sample_stats();
      });
    });
  });
}

HttpServer::~HttpServer() {
  shutdown();
  // Work on the worker may still post to the loop; it must finish before the Api goes.
  worker_.join();
  api_.set_scheduler(nullptr);
}

void HttpServer::post(std::function<void()> fn) {
  asio::post(io_, std::move(fn));
}

void HttpServer::offload(std::function<void()> fn) {
  asio::post(worker_, std::move(fn));
}

Result<tcp::endpoint> HttpServer::listen(const std::string& host, uint16_t port,
                                         bool metrics_only) {
  auto acceptor = open_acceptor(io_, host, port, "HTTP");
  if (!acceptor) return std::move(acceptor).error();
  tcp::endpoint bound = (*acceptor)->local_endpoint();
  acceptors_.push_back(std::move(*acceptor));
  accept(*acceptors_.back(), metrics_only);
  return bound;
}

void HttpServer::accept(tcp::acceptor& acceptor, bool metrics_only) {
  acceptor.async_accept(
      [this, &acceptor, metrics_only](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || shutting_down_) return;
        if (!ec) {
          std::make_shared<Session>(std::move(socket), api_, options_, metrics_only)->start();
        } else {
          spdlog::warn("HTTP accept failed: {}", ec.message());
        }
        accept(acceptor, metrics_only);
      });
}

void HttpServer::shutdown() {
  shutting_down_ = true;
  stats_timer_.cancel();
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

}  // namespace pulse::http
