#pragma once
// The management API's HTTP/1.1 listener (Boost.Beast) on the broker's io_context: handlers run
// on the event-loop thread and read broker state directly, without locks. Keep-alive, bounded
// header and body sizes, an idle timeout; malformed requests are answered 400 and closed.
// HTTPS listeners (management.ssl.*, prometheus.ssl.*) serve the same API over TLS.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "base/result.h"
#include "http/chunked.h"
#include "http/static_files.h"
#include "server/asio.h"

namespace pulse::tls {
class ContextHolder;
}

namespace pulse::http {

class Api;

struct HttpOptions {
  size_t header_limit = 64 * 1024;
  // Definitions imports are the largest bodies; RabbitMQ's management.http.max_body_size
  // defaults to 20 MB too.
  size_t body_limit = 20 * 1024 * 1024;
  std::chrono::seconds idle_timeout{60};
  // An HTTPS client must finish its TLS handshake within this (cowboy/ranch's default, which
  // RabbitMQ's HTTPS listeners use: a silent client is closed after 5 s).
  std::chrono::milliseconds handshake_timeout{5000};
  // CORS (management.cors.allow_origins.N, management.cors.max_age): off while empty; "*"
  // allows any origin. An allowed Origin is echoed back, never "*".
  std::vector<std::string> cors_allow_origins;
  uint32_t cors_max_age = 1800;
};

// Also the Api's Scheduler: its loop is the broker's io_context, its worker one thread.
class HttpServer : public Scheduler {
 public:
  HttpServer(boost::asio::io_context& io, Api& api, HttpOptions options = {});
  ~HttpServer() override;

  // Binds and starts accepting; port 0 picks a free port. A `metrics_only` listener (the
  // Prometheus port, like rabbitmq_prometheus's 15692) answers /metrics and 404 otherwise.
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port,
                                                bool metrics_only = false);
  // The same over TLS. Each connection takes the holder's current context when it is accepted
  // and keeps it: a reload (SIGHUP) changes the certificate for new connections only.
  Result<boost::asio::ip::tcp::endpoint> listen_tls(const std::string& host, uint16_t port,
                                                    std::shared_ptr<tls::ContextHolder> holder,
                                                    bool metrics_only = false);
  // The pages under /inspector and /examples (none until set), on every listener but the
  // metrics-only one. Set before listening.
  void set_static_files(StaticFiles files) { static_files_ = std::move(files); }
  // Stops accepting; open keep-alive connections end with the io_context.
  void shutdown();

  void post(std::function<void()> fn) override;
  void offload(std::function<void()> fn) override;

 private:
  // `holder` is null for plaintext listeners.
  void accept(boost::asio::ip::tcp::acceptor& acceptor, bool metrics_only,
              std::shared_ptr<tls::ContextHolder> holder);
  void sample_stats();

  boost::asio::io_context& io_;
  Api& api_;
  HttpOptions options_;
  StaticFiles static_files_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  boost::asio::steady_timer stats_timer_;
  bool shutting_down_ = false;
  boost::asio::thread_pool worker_{1};
};

}  // namespace pulse::http
