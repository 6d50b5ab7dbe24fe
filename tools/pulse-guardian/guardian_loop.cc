#include "guardian_loop.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "base/log.h"
#include "mgmt/errors.h"
#include "mgmt/http_client.h"
#include "mgmt/reason.h"
#include "notice_publisher.h"
#include "pulse/admin_http/http_broker_admin.h"
#include "pulse/guardian_run/log_sink.h"
#include "pulse/guardian_run/runner.h"
#include "pulse/smtp/smtp_notice_sink.h"

namespace pulse::tools {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The loop looks at the stop flag at least this often while it waits.
constexpr milliseconds kSlice{200};
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
  if (j.is_object() && j.contains("tags")) {
    const auto& t = j["tags"];
    if (t.is_string()) tags = t.get<std::string>();
    if (t.is_array()) {
      for (const auto& x : t) {
        if (!x.is_string()) continue;
        tags += (tags.empty() ? "" : ",") + x.get<std::string>();
      }
    }
  }
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

// Waits until `until` or a stop, pumping the publisher (confirms, heartbeats, reconnects).
void wait_until(Clock::time_point until, NoticePublisher* publisher,
                const std::atomic<bool>& stop) {
  while (!stop.load() && Clock::now() < until) {
    const auto slice = std::min<Clock::duration>(kSlice, until - Clock::now());
    const auto started = Clock::now();
    if (publisher) publisher->pump(std::chrono::ceil<milliseconds>(slice));
    const auto rest = slice - (Clock::now() - started);
    if (rest > Clock::duration::zero()) std::this_thread::sleep_for(rest);
  }
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
  }

  admin::HttpBrokerAdmin http_admin(client);
  RecordingAdmin admin(http_admin);

  guardian::LogSink log_sink;
  std::vector<guardian::NoticeSink*> sinks{&log_sink};

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
    // Owners are mailed at <owner>@pulse.smtp.owner_domain (no accounts service here).
    mail = std::make_unique<smtp::SmtpNoticeSink>(config.smtp, nullptr, options);
    sinks.push_back(mail.get());
    spdlog::info("guardian: mailing notices through {}:{}", config.smtp.host,
                 smtp::effective_port(config.smtp));
  }

  guardian::GuardianRunner runner(admin, g, sinks);
  int status = kExitOk;
  while (!stop.load()) {
    admin.last_list_error.reset();
    const auto polls_failed = runner.stats().failed_polls;
    const auto delay = runner.poll(std::chrono::system_clock::now());
    if (args.once) {
      if (runner.stats().failed_polls != polls_failed) {
        status =
            admin.last_list_error ? exit_status(*admin.last_list_error) : kGuardianExitPollFailed;
      }
      break;
    }
    wait_until(Clock::now() + delay, publisher.get(), stop);
  }
  drain(publisher.get(), mail.get(), args.once && !stop.load() ? kOnceDrain : kStopDrain);
  if (stop.load()) spdlog::info("guardian: stopped");
  return status;
}

}  // namespace pulse::tools
