#pragma once
// The guardian at work: one GuardianRunner polls a broker through a BrokerAdmin, hands what it
// saw to the GuardianPolicy, carries out the policy's commands and sends its notices to every
// sink. Who owns it brings the clock and the waiting: poll(now) returns the delay until the next
// poll (pulsed: a timer on its event loop; pulse-guardian: a sleep).
//
// Thread: the caller's, one at a time, the same as the BrokerAdmin's and the sinks'.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pulse/admin/broker_admin.h"
#include "pulse/guardian/notice_sink.h"
#include "pulse/guardian/policy.h"
#include "pulse/guardian/poll_backoff.h"
#include "pulse/guardian/settings.h"

namespace pulse::guardian {

struct RunnerStats {
  uint64_t polls = 0;         // attempted
  uint64_t failed_polls = 0;  // the broker could not be listed, or became unreachable
  uint64_t queues_deleted = 0;
  uint64_t connections_closed = 0;
  uint64_t notices = 0;           // handed to the sinks
  uint64_t command_failures = 0;  // deletes and closes the broker refused
};

class GuardianRunner {
 public:
  // `settings` must have passed validate(). `admin` and the sinks must outlive the runner.
  GuardianRunner(admin::BrokerAdmin& admin, GuardianSettings settings,
                 std::vector<NoticeSink*> sinks);

  // One poll: lists the queues (and the connections when max_connection_age is on), observes,
  // carries out the commands in order and delivers the notices. Returns how long to wait
  // before the next poll: the interval, or PollBackoff's longer wait after an error.
  std::chrono::seconds poll(admin::TimePoint now);

  // A notice that is not the policy's (an administrator's, Event::kOperator), handed to every
  // sink now, as the policy's are: published, mailed, logged and kept in the NoticeLog.
  void announce(const Notice& notice);
  // The broker the runner polls (the API looks a queue up there before announcing about it).
  admin::BrokerAdmin& admin() { return admin_; }

  // From the next poll on (see GuardianPolicy::set_settings). A new interval is also told to
  // the on_interval_change callback, so the loop need not wait out the old one.
  void set_settings(GuardianSettings settings);
  void on_interval_change(std::function<void(std::chrono::seconds)> fn) {
    interval_changed_ = std::move(fn);
  }
  const GuardianSettings& settings() const { return policy_.settings(); }
  const RunnerStats& stats() const { return stats_; }

 private:
  // What a command's success decides: "q\0<vhost>\0<name>" or "c\0<name>".
  using Target = std::string;
  enum class Outcome { kDone, kFailed, kUnavailable };

  std::function<void(std::chrono::seconds)> interval_changed_;

  Outcome carry_out(const DeleteQueue& d);
  Outcome carry_out(const CloseConnection& c);
  Outcome report(const Status& st, const Target& target, const std::string& what);
  void deliver(const Notice& notice);
  std::chrono::seconds failed(const Error& error);

  admin::BrokerAdmin& admin_;
  GuardianPolicy policy_;
  PollBackoff backoff_;
  std::vector<NoticeSink*> sinks_;
  RunnerStats stats_;
  // The notice of a command that failed ("has been deleted" is only true once it was): sent
  // when a later repeat of the command succeeds, dropped when the policy stops asking for it.
  std::map<Target, Notice> held_;
  // Commands whose failure was logged: logged once until they succeed or are no longer asked.
  std::set<Target> failing_;
  Error last_error_;  // of the last command the broker could not be reached for
};

}  // namespace pulse::guardian
