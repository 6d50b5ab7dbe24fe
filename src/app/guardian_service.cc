#include "app/guardian_service.h"

#include <memory>

#include "base/log.h"
#include "broker/broker.h"
#include "broker/message.h"
#include "broker/vhost.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::app {

namespace {

// One poll that takes longer than this is worth a line: the loop serves no client meanwhile.
constexpr auto kSlowPoll = std::chrono::milliseconds(50);

}  // namespace

Status publish_in_process(broker::Broker& broker, const guardian::OutgoingMessage& m) {
  broker::VHost* vh = broker.find_vhost("/");
  if (vh == nullptr) return Error{404, "NOT_FOUND - no vhost '/'"};
  auto msg = std::make_shared<broker::Message>();
  msg->exchange = m.exchange;
  msg->routing_key = m.routing_key;
  msg->body = m.body;
  amqp::BasicProperties props;
  props.set_content_type(m.content_type);
  if (m.persistent) props.set_delivery_mode(2);
  msg->set_properties(std::move(props));
  auto r = vh->publish(msg);
  if (!r) return r.error();
  return {};
}

Status declare_notice_exchange(broker::Broker& broker) {
  broker::VHost* vh = broker.find_vhost("/");
  if (vh == nullptr) return Error{404, "NOT_FOUND - no vhost '/'"};
  if (vh->find_exchange(guardian::kNoticeExchange) != nullptr) return {};
  broker::ExchangeDeclare d;
  d.name = guardian::kNoticeExchange;
  d.type = "topic";
  d.durable = true;
  auto x = vh->declare_exchange(d);
  if (!x) return x.error();
  return {};
}

namespace {

std::unique_ptr<smtp::SmtpNoticeSink> mail_sink(const smtp::SmtpSettings& s,
                                                smtp::OwnerLookup owners) {
  if (!s.enabled()) return nullptr;
  return std::make_unique<smtp::SmtpNoticeSink>(s, std::move(owners));
}

}  // namespace

GuardianService::GuardianService(boost::asio::io_context& io, ManagementContext& ctx,
                                 guardian::GuardianSettings settings,
                                 const smtp::SmtpSettings& smtp, smtp::OwnerLookup owners)
    : broker_(ctx.broker),
      admin_(ctx.broker, ctx.auth, local_admin_hooks(ctx)),
      publish_([&b = ctx.broker](const guardian::OutgoingMessage& m) {
        return publish_in_process(b, m);
      }),
      runner_(admin_, std::move(settings), {&log_, &notices_, &publish_, &mail_}),
      timer_(io) {
  mail_.sink = mail_sink(smtp, std::move(owners));
  // An interval changed through /api/pulse/guardian takes effect now, not after the old one.
  runner_.on_interval_change([this](std::chrono::seconds) { reschedule(); });
}

GuardianService::~GuardianService() {
  for (auto& t : retired_) t.join();
}

void GuardianService::set_smtp(const smtp::SmtpSettings& smtp, smtp::OwnerLookup owners) {
  auto old = std::move(mail_.sink);
  mail_.sink = mail_sink(smtp, std::move(owners));
  spdlog::info("guardian: mail {}", smtp.enabled() ? "to " + smtp.host : std::string("off"));
  // Its destructor lets queued mails go out (up to its drain time): not on the loop.
  if (old) retired_.emplace_back([old = std::move(old)]() mutable { old.reset(); });
}

void GuardianService::start() {
  if (auto st = declare_notice_exchange(broker_); !st) {
    spdlog::warn(
        "guardian: exchange '{}' on vhost '/' not declared, notices will not be "
        "published: {}",
        guardian::kNoticeExchange, st.error().text);
  }
  const auto& s = runner_.settings();
  spdlog::info("guardian: on, every {} s: warn over {} messages, delete over {}{}{}",
               s.interval.count(), s.thresholds.warn_queue_size, s.thresholds.delete_queue_size,
               s.idle_queue_expiry.count() > 0
                   ? ", idle queues after " + std::to_string(s.idle_queue_expiry.count()) + " s"
                   : std::string(),
               s.max_connection_age.count() > 0
                   ? ", connections after " + std::to_string(s.max_connection_age.count()) + " s"
                   : std::string());
  schedule(s.interval);
}

void GuardianService::stop() {
  stopped_ = true;
  timer_.cancel();
}

void GuardianService::schedule(std::chrono::seconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    poll();
  });
}

void GuardianService::poll() {
  const auto began = std::chrono::steady_clock::now();
  const auto next = runner_.poll(admin::Clock::now());
  const auto took = std::chrono::steady_clock::now() - began;
  const auto ms = std::chrono::duration_cast<std::chrono::microseconds>(took).count() / 1000.0;
  if (took > kSlowPoll) {
    spdlog::warn("guardian: a poll took {:.1f} ms of the event loop", ms);
  } else {
    spdlog::debug("guardian: poll took {:.1f} ms", ms);
  }
  schedule(next);
}

}  // namespace pulse::app
