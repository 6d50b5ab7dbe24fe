#include "guardian_loop.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "api_front.h"
#include "base/log.h"
#include "mgmt/errors.h"
#include "mgmt/http_client.h"
#include "mgmt/reason.h"
#include "notice_publisher.h"
#include "pulse/admin_http/http_broker_admin.h"
#include "pulse/guardian_run/log_sink.h"
#include "pulse/guardian_run/notice_log.h"
#include "pulse/guardian_run/runner.h"
#include "pulse/smtp/smtp_notice_sink.h"

namespace pulse::tools {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The loop looks at the stop flag at least this often while it waits.
constexpr milliseconds kSlice{200};
// What each look at the publisher may take (confirms, heartbeats, reconnects).
constexpr milliseconds kPump{20};
// What a signal leaves for notices still on their way (the whole stop stays under a second);
// --once waits longer, as its caller asked for the notices.
constexpr milliseconds kStopDrain{400};
constexpr milliseconds kOnceDrain{20000};

// The management API as the guardian's -u user sees it, once at start-up: the login works,
// and what tags it has (a user without administrator sees only its own vhosts' queues). The
// error's code is the exit status --once ends with.
Status check_login(const mgmt::HttpClient& client, std::string& tags) {
  auto reply = client.request("GET", "/api/whoami");
  if (!reply) return std::move(reply).error();  // mgmt::kBadSettings or kUnreachable: exit codes
  if (reply->status == 401) {
    return Error{kGuardianExitAuth, "GET /api/whoami: HTTP 401: login refused for user '" +
                                        client.user() + "' (" + mgmt::error_reason(*reply) + ")"};
  }
  if (reply->status != 200) {
    return Error{kGuardianExitPollFailed, "GET /api/whoami: HTTP " + std::to_string(reply->status) +
                                              ": " + mgmt::error_reason(*reply)};
  }
  auto j = nlohmann::json::parse(reply->body, nullptr, false);
  if (j.is_object())
    for (const auto& t : admin::user_tags(j)) tags += (tags.empty() ? "" : ",") + t;
  return {};
}

// The one listing's error of a poll, kept for --once's exit status. Everything else passes
// through.
class RecordingAdmin : public admin::BrokerAdmin {
 public:
  explicit RecordingAdmin(admin::BrokerAdmin& inner) : inner_(inner) {}
  std::optional<Error> last_list_error;

  Result<std::vector<admin::QueueInfo>> list_queues() override {
    auto r = inner_.list_queues();
    if (!r) last_list_error = r.error();
    return r;
  }
  Status delete_queue(const std::string& vhost, const std::string& name,
                      const std::string& reason) override {
    return inner_.delete_queue(vhost, name, reason);
  }
  Result<std::vector<admin::ConnectionInfo>> list_connections() override {
    auto r = inner_.list_connections();
    if (!r) last_list_error = r.error();
    return r;
  }
  Status close_connection(const std::string& name, const std::string& reason) override {
    return inner_.close_connection(name, reason);
  }
  Result<std::vector<admin::ExchangeInfo>> list_exchanges() override {
    return inner_.list_exchanges();
  }
  Status delete_exchange(const std::string& vhost, const std::string& name) override {
    return inner_.delete_exchange(vhost, name);
  }
  Result<std::vector<admin::UserInfo>> list_users() override { return inner_.list_users(); }
  Status put_user(const std::string& name, const std::string& password,
                  const std::vector<std::string>& tags) override {
    return inner_.put_user(name, password, tags);
  }
  Status delete_user(const std::string& name) override { return inner_.delete_user(name); }
  Status set_permissions(const std::string& vhost, const std::string& user,
                         const admin::Permissions& permissions) override {
    return inner_.set_permissions(vhost, user, permissions);
  }
  Result<std::vector<admin::UserPermissions>> list_permissions(const std::string& user) override {
    return inner_.list_permissions(user);
  }

 private:
  admin::BrokerAdmin& inner_;
};

// --once's exit status for a failed listing.
int exit_status(const Error& e) {
  if (e.code == admin::kUnavailable && e.text.starts_with("cannot reach ")) {
    return kGuardianExitUnreachable;
  }
  if (e.code == 401) return kGuardianExitAuth;
  return kGuardianExitPollFailed;
}

// Lets notices on their way go out, for at most `limit`.
void drain(NoticePublisher* publisher, smtp::SmtpNoticeSink* mail, milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (publisher && publisher->state() == NoticePublisher::State::kReady &&
         publisher->pending() > 0 && Clock::now() < until) {
    publisher->pump(kSlice);
  }
  if (publisher && publisher->pending() > 0) {
    spdlog::warn("guardian: {} notice(s) not confirmed by the broker before exit",
                 publisher->pending());
  }
  if (mail) {
    const auto left =
        std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(until - Clock::now()));
    if (!mail->wait_idle(left)) {
      spdlog::warn("guardian: {} mail(s) not sent before exit", mail->stats().pending);
    }
  }
}

}  // namespace

int run_guardian(const GuardianArgs& args, const GuardianConfig& config,
                 const std::atomic<bool>& stop) {
  auto url = mgmt::parse_url(args.mgmt.url);
  if (!url) {
    spdlog::error("{}", url.error().text);
    return kExitUsage;
  }
  mgmt::HttpClient client(*url, args.mgmt.user, args.mgmt.password, args.mgmt.timeout(),
                          args.mgmt.tls);
  client.set_user_agent("pulse-guardian");

  const auto& g = config.guardian;
  std::string tags;
  if (auto st = check_login(client, tags); !st) {
    if (st.error().code == mgmt::kBadSettings) {  // TLS files: retrying cannot fix them
      spdlog::error("{}", st.error().text);
      return kExitUsage;
    }
    if (args.once) {
      spdlog::error("guardian: {}", st.error().text);
      return st.error().code;
    }
    spdlog::error("guardian: {}; polling all the same, with growing delays", st.error().text);
  } else {
    spdlog::info(
        "guardian: guarding {} as {} ({}): every {} s, warn over {}, delete over {} "
        "messages",
        url->text, args.mgmt.user, tags.empty() ? "no tags" : "tags " + tags, g.interval.count(),
        g.thresholds.warn_queue_size, g.thresholds.delete_queue_size);
    if (!args.listen.empty() && ("," + tags + ",").find(",administrator,") == std::string::npos) {
      spdlog::warn(
          "pulse: --listen: {} has no administrator tag; RabbitMQ will refuse the users, "
          "owners and permissions /api/pulse makes",
          args.mgmt.user);
    }
  }

  admin::HttpBrokerAdmin http_admin(client);
  RecordingAdmin admin(http_admin);
  boost::asio::io_context io;

  // /api/pulse (--listen): its accounts are read before the sinks, which mail owners at the
  // addresses the accounts know.
  std::unique_ptr<ApiFront> front;
  if (!args.listen.empty()) {
    // Push subscriptions read their queues over AMQP where the notices are published.
    auto amqp = notice_endpoints(args);
    front = std::make_unique<ApiFront>(
        io, args, config, http_admin, client,
        amqp ? std::move(*amqp) : std::vector<client::ConnectionOptions>{});
    if (auto s = front->load(); !s) {
      spdlog::error("{}", s.error().text);
      return kExitUsage;
    }
  }

  guardian::LogSink log_sink;
  guardian::NoticeLog notice_log;
  std::vector<guardian::NoticeSink*> sinks{&log_sink};
  if (front) sinks.push_back(&notice_log);

  auto endpoints = notice_endpoints(args);
  if (!endpoints) {
    spdlog::error("{}", endpoints.error().text);
    return kExitUsage;
  }
  std::unique_ptr<NoticePublisher> publisher;
  std::unique_ptr<guardian::PublishSink> publish_sink;
  if (endpoints->empty()) {
    spdlog::info("guardian: --amqp-url none: notices are not published");
  } else {
    publisher = std::make_unique<NoticePublisher>(*endpoints);
    if (publisher->prepare() == NoticePublisher::State::kOff) {
      publisher.reset();
    } else {
      publish_sink = std::make_unique<guardian::PublishSink>(
          [p = publisher.get()](const guardian::OutgoingMessage& m) { return p->publish(m); });
      sinks.push_back(publish_sink.get());
    }
  }

  std::unique_ptr<smtp::SmtpNoticeSink> mail;
  if (config.smtp.enabled()) {
    smtp::SinkOptions options;
    options.shutdown_drain = kStopDrain;
    // Owners are mailed at the address their accounts give (--listen), else at
    // <owner>@pulse.smtp.owner_domain.
    smtp::OwnerLookup lookup;
    if (front) lookup = [f = front.get()](const std::string& o) { return f->owner_address(o); };
    mail = std::make_unique<smtp::SmtpNoticeSink>(config.smtp, std::move(lookup), options);
    sinks.push_back(mail.get());
    spdlog::info("guardian: mailing notices through {}:{}", config.smtp.host,
                 smtp::effective_port(config.smtp));
  }

  guardian::GuardianRunner runner(admin, g, sinks);
  int status = kExitOk;
  if (args.once) {
    const auto polls_failed = runner.stats().failed_polls;
    runner.poll(std::chrono::system_clock::now());
    if (runner.stats().failed_polls != polls_failed) {
      status =
          admin.last_list_error ? exit_status(*admin.last_list_error) : kGuardianExitPollFailed;
    }
    drain(publisher.get(), mail.get(), stop.load() ? kStopDrain : kOnceDrain);
    if (stop.load()) spdlog::info("guardian: stopped");
    return status;
  }
  if (front) {
    front->attach_guardian(runner, notice_log);
    if (auto s = front->listen(); !s) {
      spdlog::error("{}", s.error().text);
      return kExitUsage;
    }
  }

  // One thread: the polls, the publisher's pumping, the stop flag and /api/pulse all run on
  // this io_context, so the runner and the account service are never used concurrently.
  boost::asio::steady_timer poll_timer(io);
  std::function<void()> poll;
  // Re-arming cancels the wait in progress (its handler sees operation_aborted).
  auto arm = [&](std::chrono::seconds delay) {
    poll_timer.expires_after(delay);
    poll_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) poll();
    });
  };
  poll = [&] { arm(runner.poll(std::chrono::system_clock::now())); };
  // An interval changed through /api/pulse/guardian: the next poll one new interval from now.
  runner.on_interval_change(arm);
  boost::asio::steady_timer tick(io);
  std::function<void()> on_tick = [&] {
    if (stop.load()) {
      io.stop();
      return;
    }
    // Short: HTTP requests wait while the publisher is pumped.
    if (publisher) publisher->pump(kPump);
    tick.expires_after(kSlice);
    tick.async_wait([&](boost::system::error_code ec) {
      if (!ec) on_tick();
    });
  };
  boost::asio::post(io, poll);
  boost::asio::post(io, on_tick);
  io.run();
  if (front) front->stop();
  drain(publisher.get(), mail.get(), kStopDrain);
  spdlog::info("guardian: stopped");
  return status;
}

}  // namespace pulse::tools
