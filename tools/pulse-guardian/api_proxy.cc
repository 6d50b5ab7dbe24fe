#include "api_proxy.h"

#include <string_view>

#include "base/log.h"

namespace pulse::tools {

namespace {

// What a client needs of RabbitMQ's headers besides the content type: the login challenge, a
// definitions export's file name, where a created object is, the methods a resource allows.
constexpr std::string_view kRelayedHeaders[] = {"www-authenticate", "content-disposition",
                                                "location", "allow"};

}  // namespace

httpd::Response relayed_response(const mgmt::HttpReply& reply) {
  httpd::Response r;
  r.status = reply.status;
  r.body = reply.body;
  r.content_type.clear();
  for (const auto& [name, value] : reply.headers) {
    if (name == "content-type") {
      r.content_type = value;
      continue;
    }
    for (auto relayed : kRelayedHeaders)
      if (name == relayed) r.headers.emplace_back(name, value);
  }
  return r;
}

ApiProxy::ApiProxy(boost::asio::io_context& io, const mgmt::HttpClient& rabbit)
    : io_(io), rabbit_(rabbit) {
  workers_.reserve(kWorkers);
  for (size_t i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { work(); });
}

ApiProxy::~ApiProxy() {
  stop();
}

void ApiProxy::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  // The callers' callbacks hold their connections: released here, on the loop's thread.
  waiting_.clear();
}

void ApiProxy::forward(httpd::Request req, httpd::Reply done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && waiting_.size() < kMaxWaiting) {
      waiting_.push_back(Job{std::move(req), std::move(done)});
      ready_.notify_one();
      return;
    }
  }
  spdlog::warn("pulse: proxy: {} requests waiting for RabbitMQ already; refusing {} {}",
               kMaxWaiting, req.method, req.path);
  done(httpd::error_response(503, "unavailable",
                             "too many requests waiting for the broker; try again"));
}

void ApiProxy::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    httpd::Response r = carry_out(job.req);
    // The callback (and the connection it holds) goes to the loop: it is called, and
    // released, there.
    boost::asio::post(
        io_, [done = std::move(job.done), r = std::move(r)]() mutable { done(std::move(r)); });
  }
}

httpd::Response ApiProxy::carry_out(const httpd::Request& req) const {
  mgmt::Headers headers;
  if (!req.authorization.empty()) headers.emplace_back("authorization", req.authorization);
  if (!req.content_type.empty()) headers.emplace_back("content-type", req.content_type);
  if (!req.x_reason.empty()) headers.emplace_back("x-reason", req.x_reason);
  auto reply = rabbit_.relay(req.method, req.target, req.body, headers);
  if (!reply) {
    spdlog::warn("pulse: proxy: {} {}: {}", req.method, req.path, reply.error().text);
    return httpd::error_response(503, "unavailable",
                                 "the broker could not be reached: " + reply.error().text);
  }
  spdlog::debug("pulse: proxy: {} {}: {}", req.method, req.path, reply->status);
  return relayed_response(*reply);
}

}  // namespace pulse::tools
