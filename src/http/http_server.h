#pragma once
// The management API's HTTP/1.1 listeners on the broker's io_context: httpd's generic server
// (Beast sessions, limits, keep-alive, TLS) with the Api as its handler, which runs on the
// event-loop thread and reads broker state directly, without locks. HTTPS listeners
// (management.ssl.*, prometheus.ssl.*) serve the same API over TLS. Also the statistics
// sampling timer and the Api's worker thread.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "base/result.h"
#include "http/chunked.h"
#include "httpd/server.h"
#include "httpd/static_files.h"
#include "server/asio.h"

namespace pulse::tls {
class ContextHolder;
}

namespace pulse::http {

class Api;

// The generic server's limits, headers and CORS (httpd/server.h).
using HttpOptions = httpd::ServerOptions;

// Also the Api's Scheduler: its loop is the broker's io_context, its worker one thread.
class HttpServer : public Scheduler {
 public:
  HttpServer(boost::asio::io_context& io, Api& api, HttpOptions options = {});
  ~HttpServer() override;

  // Binds and starts accepting; port 0 picks a free port. A `metrics_only` listener (the
  // Prometheus port, like rabbitmq_prometheus's 15692) answers /metrics and 404 otherwise.
  // `timeouts`: the listener's (management.tcp.request_timeout, ...).
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, uint16_t port,
                                                bool metrics_only = false,
                                                const httpd::Timeouts& timeouts = {});
  // The same over TLS. Each connection takes the holder's current context when it is accepted
  // and keeps it: a reload (SIGHUP) changes the certificate for new connections only.
  Result<boost::asio::ip::tcp::endpoint> listen_tls(const std::string& host, uint16_t port,
                                                    std::shared_ptr<tls::ContextHolder> holder,
                                                    bool metrics_only = false,
                                                    const httpd::Timeouts& timeouts = {});
  // The pages under /inspector and /examples (none until set), on every listener but the
  // metrics-only one. Set before listening.
  void set_static_files(httpd::StaticFiles files) { static_files_ = std::move(files); }
  // Requests to `handler->path()` on every listener but the metrics-only ones are handed to
  // it (Web-STOMP at /ws). Set before listening; the handler outlives the server.
  void set_upgrade_handler(httpd::UpgradeHandler* handler) { upgrade_ = handler; }
  // Stops accepting; open keep-alive connections end with the io_context.
  void shutdown();

  void post(std::function<void()> fn) override;
  void offload(std::function<void()> fn) override;

 private:
  httpd::Handler handler(bool metrics_only);
  void sample_stats();

  boost::asio::io_context& io_;
  Api& api_;
  httpd::Server server_;
  httpd::UpgradeHandler* upgrade_ = nullptr;
  httpd::StaticFiles static_files_;
  boost::asio::steady_timer stats_timer_;
  bool shutting_down_ = false;
  boost::asio::thread_pool worker_{1};
};

}  // namespace pulse::http
