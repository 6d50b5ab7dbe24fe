#include "pulse/push_host/push_host.h"

#include <boost/asio/post.hpp>

#include "base/log.h"
#include "mgmt/http_client.h"

namespace pulse::push {

namespace {

// Of a callback's answer only the start is kept: a challenge is short.
constexpr size_t kMaxReply = 64 * 1024;
// What a callback may answer at all: its memory is ours. A longer answer counts as a failed
// delivery (retried), as a subscriber that cannot answer sensibly.
constexpr std::uint64_t kReplyLimit = 1 << 20;

Outcome exchange(const Job& job, std::chrono::milliseconds timeout) {
  Outcome o;
  o.job = job.id;
  auto url = mgmt::parse_url(job.url);
  if (!url) {
    o.error = "bad callback URL";
    return o;
  }
  // parse_url keeps the path and query as the base path; an empty one is the root.
  const std::string target = url->base_path.empty() ? "/" : "";
  mgmt::HttpClient client(*url, "", "", timeout);
  client.set_user_agent("pulse-push");
  client.set_body_limit(kReplyLimit);
  auto reply = client.relay(job.method, target, job.body, job.headers);
  if (!reply) {
    o.error = reply.error().text;
    return o;
  }
  o.reached = true;
  o.status = reply->status;
  o.body = reply->body.substr(0, kMaxReply);
  return o;
}

}  // namespace

PushHost::PushHost(boost::asio::io_context& io, Source& source, accounts::AccountStore& store,
                   Settings settings)
    : io_(io),
      settings_(settings),
      engine_(source, *this, store, settings),
      timer_(io),
      pool_(std::make_unique<boost::asio::thread_pool>(std::max(1u, settings.workers))) {}

PushHost::~PushHost() {
  stop();
  *alive_ = false;
  if (pool_) pool_->join();
}

Status PushHost::start() {
  if (auto s = engine_.load(); !s) return s;
  spdlog::info("push: {} subscriptions", engine_.list().size());
  kick();
  return {};
}

void PushHost::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  engine_.stop();
}

void PushHost::kick() {
  if (stopped_) return;
  arm(engine_.poll());
}

void PushHost::arm(TimePoint due) {
  const auto delay = due - Clock::now();
  timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::max(delay, Clock::duration::zero())));
  timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive || stopped_) return;
    arm(engine_.poll());
  });
}

void PushHost::start(Job job) {
  boost::asio::post(*pool_,
                    [this, job = std::move(job), alive = alive_, timeout = settings_.timeout] {
                      Outcome o = exchange(job, timeout);
                      if (o.reached && (o.status < 200 || o.status >= 300))
                        spdlog::debug("push: {} {} -> {}", job.method, job.subscription, o.status);
                      boost::asio::post(io_, [this, o = std::move(o), alive] {
                        if (!*alive || stopped_) return;
                        engine_.complete(o);
                        kick();
                      });
                    });
}

}  // namespace pulse::push
