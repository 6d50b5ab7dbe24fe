#include "pulse/smtp/smtp_session.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "base/openssl_error.h"
#include "base/url.h"
#include "pulse/smtp/smtp_client.h"

namespace pulse::smtp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// How often a blocked step looks at the abort flag.
constexpr auto kAbortPoll = std::chrono::milliseconds(100);

bool peer_closed(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

struct SmtpSession::Io {
  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  tcp::socket socket{ioc};
  std::optional<asio::ssl::context> ctx;
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  std::array<char, 4096> buf{};
  std::string local_address;

  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(socket);
    }
  }
};

SmtpSession::SmtpSession(const SmtpSettings& settings, Clock::time_point deadline,
                         const std::atomic<bool>* abort)
    : settings_(settings), deadline_(deadline), abort_(abort), io_(std::make_unique<Io>()) {}

SmtpSession::~SmtpSession() {
  if (!dead_) shut();
}

bool SmtpSession::tls_active() const {
  return io_->tls.has_value();
}

std::string SmtpSession::ehlo_name() const {
  if (io_->local_address.empty()) return {};
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
  return ehlo_domain(name, io_->local_address);
}

void SmtpSession::shut() {
  dead_ = true;
  error_code ignored;
  io_->resolver.cancel();
  io_->socket.close(ignored);
  // The cancelled operations complete now: their handlers point into the caller's frame.
  io_->ioc.restart();
  io_->ioc.run();
}

Status SmtpSession::fail(std::string text) {
  shut();
  return Error{kTransient, std::move(text)};
}

Status SmtpSession::wait(const bool& done, std::string_view what) {
  auto& ioc = io_->ioc;
  ioc.restart();
  while (!done) {
    if (abort_ != nullptr && abort_->load()) return fail("aborted (shutting down)");
    const auto now = Clock::now();
    if (now >= deadline_) {
      return fail("timed out (pulse.smtp.timeout = " + std::to_string(settings_.timeout.count()) +
                  " s) " + std::string(what));
    }
    ioc.run_one_for(std::min<Clock::duration>(kAbortPoll, deadline_ - now));
    if (ioc.stopped()) ioc.restart();
  }
  return {};
}

Status SmtpSession::connect(const std::string& host_in, int port) {
  const std::string host(unbracket(host_in));
  const std::string service = std::to_string(port);
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  if (is_ip_literal(host)) {
    endpoints.emplace_back(asio::ip::make_address(host, ec), static_cast<uint16_t>(port));
  } else {
    // getaddrinfo runs on Asio's resolver thread; a stuck DNS lookup outlives the deadline
    // only in that the session's destruction waits for it.
    bool done = false;
    io_->resolver.async_resolve(host, service, tcp::resolver::numeric_service,
                                [&](const error_code& e, tcp::resolver::results_type r) {
                                  ec = e;
                                  for (const auto& entry : r) endpoints.push_back(entry.endpoint());
                                  done = true;
                                });
    if (auto st = wait(done, "resolving the host name"); !st) return st;
  }
  if (ec || endpoints.empty()) {
    return fail("cannot resolve '" + host + "': " + (ec ? ec.message() : "no address"));
  }
  bool done = false;
  asio::async_connect(io_->socket, endpoints, [&](const error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (auto st = wait(done, "connecting"); !st) return st;
  if (ec) return fail("cannot connect: " + ec.message());
  io_->local_address = io_->socket.local_endpoint(ec).address().to_string();
  return {};
}

namespace {

std::string handshake_failure(SSL* ssl, const error_code& ec, const std::string& host,
                              const SmtpSettings& s) {
  if (peer_closed(ec)) return "the server closed the connection during the TLS handshake";
  if (ec.category() != asio::error::get_ssl_category()) return ec.message();
  // Asio reports OpenSSL's packed error code in the ssl category.
  const auto e = static_cast<unsigned long>(ec.value());
  const int reason = ERR_GET_REASON(e);
  const long verify = SSL_get_verify_result(ssl);
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
    std::string text =
        "certificate verify failed: " + std::string(X509_verify_cert_error_string(verify));
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      return text + " (the server's certificate is not valid for '" + host + "')";
    }
    const bool untrusted = verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                           verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                           verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                           verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                           verify == X509_V_ERR_CERT_UNTRUSTED;
    if (!untrusted) return text;
    if (!s.cacertfile.empty()) {
      return text + " (pulse.smtp.cacertfile " + s.cacertfile +
             " does not hold the CA of the server's certificate)";
    }
    return text + " (the system's CAs do not trust it; pulse.smtp.cacertfile can name its CA)";
  }
  if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
      (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
       reason == SSL_R_HTTP_REQUEST)) {
    return "the server does not speak TLS there";
  }
  return ec.message();
}

}  // namespace

Status SmtpSession::start_tls(const std::string& host_in) {
  if (dead_) return Error{kTransient, "the connection is closed"};
  const std::string host(unbracket(host_in));
  auto& ctx = io_->ctx.emplace(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx.native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  if (settings_.verify_peer) {
    if (settings_.cacertfile.empty()) {
      if (SSL_CTX_set_default_verify_paths(c) != 1) {
        return fail("cannot load the system's CA certificates: " + openssl_reason());
      }
    } else if (SSL_CTX_load_verify_locations(c, settings_.cacertfile.c_str(), nullptr) != 1) {
      return fail("cannot load pulse.smtp.cacertfile " + settings_.cacertfile + ": " +
                  openssl_reason());
    }
  }
  SSL_CTX_set_verify(c, settings_.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  auto& tls = io_->tls.emplace(io_->socket, ctx);
  SSL* ssl = tls.native_handle();
  const bool ip = is_ip_literal(host);
  // RFC 6066: SNI carries host names only.
  if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return fail("bad host name '" + host + "' for TLS");
  }
  if (settings_.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (set != 1) return fail("bad host name '" + host + "' for TLS");
  }
  bool done = false;
  error_code ec;
  tls.async_handshake(asio::ssl::stream_base::client, [&](const error_code& e) {
    ec = e;
    done = true;
  });
  if (auto st = wait(done, "in the TLS handshake"); !st) return st;
  if (ec) {
    std::string why = handshake_failure(ssl, ec, host, settings_);
    ERR_clear_error();
    return fail("TLS handshake failed: " + why);
  }
  return {};
}

Status SmtpSession::write(std::string_view bytes, std::string_view what) {
  if (dead_) return Error{kTransient, "the connection is closed"};
  bool done = false;
  error_code ec;
  io_->with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                      [&](const error_code& e, size_t) {
                        ec = e;
                        done = true;
                      });
  });
  if (auto st = wait(done, what); !st) return st;
  if (peer_closed(ec)) return fail("the server closed the connection (" + std::string(what) + ")");
  if (ec) return fail("connection error " + std::string(what) + ": " + ec.message());
  return {};
}

Result<Reply> SmtpSession::read_reply(std::string_view waiting_for) {
  if (dead_) return Error{kTransient, "the connection is closed"};
  const std::string what = "waiting for " + std::string(waiting_for);
  while (true) {
    auto next = parser_.next();
    if (!next) return fail(next.error().text).error();
    if (*next) return std::move(**next);
    bool done = false;
    error_code ec;
    size_t n = 0;
    io_->with_stream([&](auto& stream) {
      stream.async_read_some(asio::buffer(io_->buf), [&](const error_code& e, size_t k) {
        ec = e;
        n = k;
        done = true;
      });
    });
    if (auto st = wait(done, what); !st) return st.error();
    parser_.feed(std::string_view(io_->buf.data(), n));
    if (peer_closed(ec)) return fail("the server closed the connection (" + what + ")").error();
    if (ec) return fail("connection error " + what + ": " + ec.message()).error();
  }
}

Result<Reply> SmtpSession::command(std::string_view line, std::string_view name) {
  std::string out(line);
  out += "\r\n";
  if (auto st = write(out, "sending " + std::string(name)); !st) return st.error();
  return read_reply("the reply to " + std::string(name));
}

}  // namespace pulse::smtp
