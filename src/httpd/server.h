#pragma once
// A generic HTTP/1.1 server on Boost.Beast, plain or TLS, on the caller's io_context: accepts,
// applies the limits (headers, body, idle and handshake timeouts), keep-alive, the security
// headers and CORS, then hands each request to the listener's Handler and writes its answer.
// Malformed requests are answered 400 (413 over the body limit) and closed. What a request
// means is the handler's: pulsed's management API (http/) and pulse-guardian's /api/pulse.
//
// Thread: the io_context's one thread; the handler is called there and may answer later
// (from that thread) through the callback it is given.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // Boost 1.74's asio uses std::exchange without including it (GCC 12)
#include <vector>
// clang-format off
#include <boost/asio.hpp>
// clang-format on

#include "base/result.h"
#include "httpd/message.h"
#include "httpd/timeouts.h"

namespace pulse::tls {
class ContextHolder;
}

namespace pulse::httpd {

class UpgradeHandler;

struct ServerOptions {
  size_t header_limit = 64 * 1024;
  // Definitions imports are the largest bodies; RabbitMQ's management.http.max_body_size
  // defaults to 20 MB too.
  size_t body_limit = 20 * 1024 * 1024;
  // cowboy's request and idle timeouts (httpd/timeouts.h); a listener may have its own.
  Timeouts timeouts;
  // An HTTPS client must finish its TLS handshake within this (cowboy/ranch's default, which
  // RabbitMQ's HTTPS listeners use: a silent client is closed after 5 s).
  std::chrono::milliseconds handshake_timeout{5000};
  // CORS (management.cors.allow_origins.N, management.cors.max_age): off while empty; "*"
  // allows any origin. An allowed Origin is echoed back, never "*".
  std::vector<std::string> cors_allow_origins;
  uint32_t cors_max_age = 1800;
  std::string server_name = "pulsed";  // the Server header
};

// Answers one request: call `done` once, now or later, on the io_context's thread.
using Reply = std::function<void(Response)>;
using Handler = std::function<void(Request req, Reply done)>;

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; port 0 picks a free port. `what` names the listener in errors
  // ("HTTP", "HTTPS"). `handler` must outlive the server's connections (the io_context).
  // Requests to `upgrade->path()` are handed to `upgrade` with the connection (Web-STOMP's
  // /ws); it must outlive the io_context too. `timeouts`: this listener's, instead of the
  // options' (management.tcp.* and prometheus.tcp.* differ).
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port,
                                                Handler handler, const char* what = "HTTP",
                                                UpgradeHandler* upgrade = nullptr,
                                                std::optional<Timeouts> timeouts = std::nullopt);
  // The same over TLS. Each connection takes the holder's current context when it is accepted
  // and keeps it: a reload (SIGHUP) changes the certificate for new connections only.
  Result<boost::asio::ip::tcp::endpoint> listen_tls(
      const std::string& host, uint16_t port, std::shared_ptr<tls::ContextHolder> holder,
      Handler handler, const char* what = "HTTPS", UpgradeHandler* upgrade = nullptr,
      std::optional<Timeouts> timeouts = std::nullopt);
  // Stops accepting; open keep-alive connections end with the io_context.
  void shutdown();
  const ServerOptions& options() const { return options_; }

 private:
  struct Listener;
  void accept(Listener& l);

  boost::asio::io_context& io_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  bool shutting_down_ = false;
};

}  // namespace pulse::httpd
