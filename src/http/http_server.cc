#include "http/http_server.h"

#include "http/api.h"
#include "http/metrics.h"

namespace pulse::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

HttpServer::HttpServer(asio::io_context& io, Api& api, HttpOptions options)
    : io_(io), api_(api), server_(io, std::move(options)), stats_timer_(io) {
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

// A `metrics_only` listener (the Prometheus port) answers /metrics and 404 otherwise.
httpd::Handler HttpServer::handler(bool metrics_only) {
  return [this, metrics_only](Request req, httpd::Reply done) {
    if (metrics_only && !is_metrics_path(req)) {
      done(not_found());
      return;
    }
    if (!metrics_only && httpd::StaticFiles::owns(req)) {
      // The inspector's files: public, no login (the page itself signs in).
      done(static_files_.serve(req, req.if_none_match));
      return;
    }
    api_.handle(std::move(req), std::move(done));
  };
}

Result<tcp::endpoint> HttpServer::listen(const std::string& host, uint16_t port, bool metrics_only,
                                         const httpd::Timeouts& timeouts) {
  return server_.listen(host, port, handler(metrics_only), "HTTP",
                        metrics_only ? nullptr : upgrade_, timeouts);
}

Result<tcp::endpoint> HttpServer::listen_tls(const std::string& host, uint16_t port,
                                             std::shared_ptr<tls::ContextHolder> holder,
                                             bool metrics_only, const httpd::Timeouts& timeouts) {
  return server_.listen_tls(host, port, std::move(holder), handler(metrics_only), "HTTPS",
                            metrics_only ? nullptr : upgrade_, timeouts);
}

void HttpServer::shutdown() {
  shutting_down_ = true;
  stats_timer_.cancel();
  server_.shutdown();
}

}  // namespace pulse::http
