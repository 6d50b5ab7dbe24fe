#include "mgmt/http_client.h"

// Boost 1.74's Asio headers use std::exchange without including <utility> (design.md, 7).
#include <utility>

#include <openssl/err.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <cstdio>
#include <limits>
#include <optional>
#include <type_traits>

#include "mgmt/errors.h"
#include "mgmt/gzip.h"

namespace pulse::mgmt {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i < in.size()) {
    unsigned n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Error unreachable(const Url& url, const std::string& what) {
  return Error{kUnreachable, "cannot reach " + url.text + ": " + what};
}

constexpr const char* kHandshake = "complete the TLS handshake";

// One request's state across its asynchronous steps.
struct Exchange {
  std::chrono::milliseconds timeout;
  http::request<http::string_body>& req;
  beast::flat_buffer& buffer;
  http::response_parser<http::string_body>& parser;
  std::uint64_t body_limit;
  beast::error_code failure;
  const char* step = "connect";
};

// Reads until the reply is complete, a piece at a time: Boost 1.74's parser does not enforce
// its own body_limit on replies (a Content-Length over it is read all the same), so the limit is
// checked here, on the announced length and on what arrived. Each read gets the timeout, so a
// large log that keeps coming is not cut by a deadline meant for one step.
template <class Stream>
void read_reply(Exchange& x, Stream& stream) {
  beast::get_lowest_layer(stream).expires_after(x.timeout);
  http::async_read_some(stream, x.buffer, x.parser, [&x, &stream](beast::error_code e, size_t) {
    if (e) {
      x.failure = e;
      return;
    }
    // A HEAD reply announces the length of a body it does not send.
    const auto announced =
        x.req.method() == http::verb::head ? boost::none : x.parser.content_length();
    if ((announced && *announced > x.body_limit) || x.parser.get().body().size() > x.body_limit) {
      x.failure = http::error::body_limit;
      return;
    }
    if (!x.parser.is_done()) read_reply(x, stream);
  });
}

template <class Stream>
void send_and_read(Exchange& x, Stream& stream) {
  x.step = "send the request";
  beast::get_lowest_layer(stream).expires_after(x.timeout);
  http::async_write(stream, x.req, [&x, &stream](beast::error_code e, size_t) {
    if (e) {
      x.failure = e;
      return;
    }
    x.step = "read the reply";
    read_reply(x, stream);
  });
}

// connect, [TLS handshake,] write, read: each step with its own deadline on the tcp_stream.
template <class Stream, class Endpoints>
void run_exchange(Exchange& x, Stream& stream, const Endpoints& endpoints) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(x.timeout);
  tcp_layer.async_connect(endpoints, [&x, &stream](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      x.failure = e;
      return;
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      send_and_read(x, stream);
    } else {
      x.step = kHandshake;
      beast::get_lowest_layer(stream).expires_after(x.timeout);
      stream.async_handshake(asio::ssl::stream_base::client, [&x, &stream](beast::error_code e) {
        if (e) {
          x.failure = e;
          return;
        }
        send_and_read(x, stream);
      });
    }
  });
}

struct ReplyRules {
  std::uint64_t body_limit;
  bool accept_gzip;
};

// Sends `req` (Host and User-Agent set here) on a connection of its own and reads the reply.
Result<HttpReply> exchange(http::request<http::string_body>& req, const Url& url,
                           const TlsSettings& tls, std::chrono::milliseconds timeout,
                           const std::string& user_agent, ReplyRules rules) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return unreachable(url, "cannot resolve '" + url.host + "': " + ec.message());

  req.set(http::field::host, url.host + ":" + url.port);
  req.set(http::field::user_agent, user_agent);
  if (rules.accept_gzip) req.set(http::field::accept_encoding, "gzip");
  req.prepare_payload();

  // Beast's synchronous calls have no deadline; the same steps as async operations on a
  // tcp_stream each get one, so a stopped server cannot hang the tool.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  // The caller's limit is read_reply's (a listing of 100k queues is tens of MiB: none by
  // default). Never boost::none here: Boost 1.74's parser compares a Content-Length with the
  // optional limit as `len > none`, always true, and fails every reply whose headers arrive in
  // a read of their own.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  // A HEAD reply's Content-Length describes a body that never comes.
  if (req.method() == http::verb::head) parser.skip(true);
  parser.header_limit(1 << 20);
  Exchange x{timeout, req, buffer, parser, rules.body_limit, {}, "connect"};
  std::optional<asio::ssl::context> tls_ctx;
  if (url.tls) {
    tls_ctx.emplace(asio::ssl::context::tls_client);
    if (Status s = configure_tls_context(tls_ctx->native_handle(), tls); !s) return s.error();
    beast::ssl_stream<beast::tcp_stream> stream(ioc, *tls_ctx);
    if (Status s = prepare_tls_session(stream.native_handle(), url.host, tls); !s) {
      return s.error();
    }
    run_exchange(x, stream, endpoints);
    ioc.run();
    if (x.failure && x.step == kHandshake) {
      // asio reports OpenSSL's packed error code in the ssl category.
      const bool ssl = x.failure.category() == asio::error::get_ssl_category();
      const std::string why = tls_handshake_failure(
          stream.native_handle(), ssl ? static_cast<unsigned long>(x.failure.value()) : 0, url.host,
          x.failure.message());
      ERR_clear_error();
      if (x.failure != beast::error::timeout) return unreachable(url, "TLS: " + why);
    }
    // No close_notify exchange: the reply is complete (its length is known) and a server that
    // does not answer one must not make the tool wait.
    beast::get_lowest_layer(stream).socket().close(ec);
  } else {
    beast::tcp_stream stream(ioc);
    run_exchange(x, stream, endpoints);
    ioc.run();
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  if (x.failure) {
    if (x.failure == beast::error::timeout) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", timeout.count() / 1000.0);
      return unreachable(url, std::string("timed out after ") + seconds + " s trying to " + x.step);
    }
    if (x.failure == http::error::body_limit) {
      return Error{kBadReply, url.text + ": the reply is larger than the limit of " +
                                  std::to_string(rules.body_limit) + " bytes"};
    }
    return unreachable(url, x.failure.message());
  }

  HttpReply reply;
  auto& res = parser.get();
  reply.status = res.result_int();
  reply.body = std::move(res.body());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  if (rules.accept_gzip && !reply.body.empty()) {
    const auto encoding = res[http::field::content_encoding];
    if (beast::iequals(encoding, "gzip") || beast::iequals(encoding, "x-gzip")) {
      auto decoded = gunzip(reply.body, rules.body_limit);
      if (!decoded) return Error{kBadReply, url.text + ": " + decoded.error().text};
      reply.body = std::move(*decoded);
    }
  }
  return reply;
}

}  // namespace

Result<Url> parse_url(const std::string& text) {
  Url u;
  u.text = text;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    rest = text.substr(8);
    u.tls = true;
  } else {
    return Error{kBadSettings, "--url " + text + ": expected http[s]://HOST[:PORT][/PATH]"};
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.base_path = rest.substr(slash);
  while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  if (authority.find('@') != std::string::npos) {
    return Error{kBadSettings, "--url " + text + ": give credentials with -u/-p, not in the URL"};
  }
  u.port = u.tls ? "443" : "80";
  if (!authority.empty() && authority.front() == '[') {  // [::1]:15672
    const size_t close = authority.find(']');
    if (close == std::string::npos) return Error{kBadSettings, "--url " + text + ": bad IPv6 host"};
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Error{kBadSettings, "--url " + text + ": bad port"};
      u.port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  bool digits = !u.port.empty() && u.port.size() <= 5;
  for (char c : u.port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (u.host.empty() || !digits || std::stoul(u.port) == 0 || std::stoul(u.port) > 65535) {
    return Error{kBadSettings, "--url " + text + ": expected http[s]://HOST[:PORT][/PATH]"};
  }
  return u;
}

HttpClient::HttpClient(Url url, std::string user, std::string password,
                       std::chrono::milliseconds timeout, TlsSettings tls)
    : url_(std::move(url)),
      user_(std::move(user)),
      authorization_("Basic " + base64(user_ + ":" + password)),
      timeout_(timeout),
      tls_(std::move(tls)) {}

Result<HttpReply> HttpClient::request(const std::string& method, const std::string& target,
                                      const std::string& body, const Headers& extra) const {
  http::request<http::string_body> req{http::string_to_verb(method), url_.base_path + target, 11};
  // No Accept header: RabbitMQ answers 406 to `DELETE .../contents` with Accept:
  // application/json (its purge resource offers no JSON); rabbitmqadmin sends none either.
  req.set(http::field::authorization, authorization_);
  for (const auto& [name, value] : extra) req.set(name, value);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  return exchange(req, url_, tls_, timeout_, user_agent_, {body_limit_, accept_gzip_});
}

Result<HttpReply> HttpClient::relay(const std::string& method, const std::string& target,
                                    const std::string& body, const Headers& headers) const {
  http::request<http::string_body> req;
  req.version(11);
  if (const auto verb = http::string_to_verb(method); verb != http::verb::unknown) {
    req.method(verb);
  } else {
    req.method_string(method);
  }
  req.target(url_.base_path + target);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  return exchange(req, url_, tls_, timeout_, user_agent_, {body_limit_, accept_gzip_});
}

}  // namespace pulse::mgmt
