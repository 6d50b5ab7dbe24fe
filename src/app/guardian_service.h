#pragma once
// The Pulse guardian inside pulsed (pulse.guardian.enabled = true): a GuardianRunner over the
// in-process LocalBrokerAdmin, polled from a timer on the broker's event loop, its notices
// logged, kept (NoticeLog, for the UI and the API) and published in-process on vhost "/" to
// exchange/pulse/guardian, which start() declares (durable topic) if it is missing, and mailed
// when pulse.smtp.host is set (SmtpNoticeSink, from a thread of its own).
//
// Thread: the event loop, like the management API; every poll is one synchronous walk of the
// queues (pulse/guardian_run/README.md says what that costs).
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "app/management.h"
#include "pulse/admin_local/local_broker_admin.h"
#include "pulse/guardian/settings.h"
#include "pulse/guardian_run/log_sink.h"
#include "pulse/guardian_run/notice_log.h"
#include "pulse/guardian_run/publish_sink.h"
#include "pulse/guardian_run/runner.h"
#include "pulse/smtp/smtp_notice_sink.h"
#include "server/asio.h"

namespace pulse::app {

// Publishes `m` on vhost "/" with the broker's own authority (no user, no permission check),
// routed and enqueued like any publish; NOT_FOUND when the vhost or the exchange is gone.
Status publish_in_process(broker::Broker& broker, const guardian::OutgoingMessage& m);

// exchange/pulse/guardian on vhost "/": a durable topic exchange, declared when missing. An
// existing one of another kind is left alone (an operator's choice) and the reason returned.
Status declare_notice_exchange(broker::Broker& broker);

class GuardianService {
 public:
  // `ctx` (the broker, auth, server and persistence behind the in-process admin) must outlive
  // the service. `settings` must have passed validate().
  // `smtp` must have passed validate(); without a host nothing is mailed. `owners` names the
  // address of a queue owner's mail (called on the loop, as the guardian polls).
  GuardianService(boost::asio::io_context& io, ManagementContext& ctx,
                  guardian::GuardianSettings settings, const smtp::SmtpSettings& smtp,
                  smtp::OwnerLookup owners);

  // Declares the notice exchange and schedules the first poll one interval from now.
  void start();
  // No poll after this (shutdown).
  void stop();

  // SIGHUP: mail through `smtp` from now on (no host: no mail). Mails queued for the old
  // target still go out, from a thread the service joins when it goes.
  void set_smtp(const smtp::SmtpSettings& smtp, smtp::OwnerLookup owners);
  // The next poll one (new) interval from now.
  void reschedule() { schedule(runner_.settings().interval); }
  ~GuardianService();

  const guardian::NoticeLog& notices() const { return notices_; }
  const guardian::GuardianRunner& runner() const { return runner_; }
  // For /api/pulse/guardian (settings changed at run time), on the same loop.
  guardian::GuardianRunner& runner() { return runner_; }

 private:
  void schedule(std::chrono::seconds delay);
  void poll();

  broker::Broker& broker_;
  admin::LocalBrokerAdmin admin_;
  guardian::NoticeLog notices_;
  guardian::PublishSink publish_;
  guardian::LogSink log_;
  // The runner's sinks are fixed; this one forwards to the mail sink in force, which a reload
  // replaces.
  struct MailSwitch : guardian::NoticeSink {
    std::unique_ptr<smtp::SmtpNoticeSink> sink;  // null: pulse.smtp.host not set
    void send(const guardian::Notice& n) override {
      if (sink) sink->send(n);
    }
  };
  MailSwitch mail_;
  std::vector<std::thread> retired_;  // old mail sinks draining
  guardian::GuardianRunner runner_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace pulse::app
