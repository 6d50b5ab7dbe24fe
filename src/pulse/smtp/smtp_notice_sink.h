#pragma once
// The guardian's email delivery: a NoticeSink whose send() only composes the mail and queues
// it; a thread of its own sends. Shared by pulsed and pulse-guardian.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pulse/guardian/notice_sink.h"
#include "pulse/smtp/message.h"
#include "pulse/smtp/settings.h"

namespace pulse::smtp {

// An owner's address, if known (the accounts service's owners are people, by email). Called
// inside send(), on the caller's thread: it must be quick and must not block on the network.
using OwnerLookup = std::function<std::optional<std::string>(const std::string& owner)>;

struct SinkOptions {
  size_t queue_capacity = 1000;                       // full: the oldest queued mail is dropped
  int max_attempts = 3;                               // per mail; a 5xx refusal is not retried
  std::chrono::milliseconds first_retry_delay{2000};  // doubled before each further attempt
  // How long the destructor lets queued mails go out before it abandons them.
  std::chrono::milliseconds shutdown_drain{5000};
};

struct SinkStats {
  uint64_t queued = 0;              // mails accepted by send()
  uint64_t sent = 0;                // taken by the server
  uint64_t failed = 0;              // given up after max_attempts (or a 5xx)
  uint64_t dropped_overflow = 0;    // pushed out of a full queue
  uint64_t no_recipient = 0;        // notices nobody was to be mailed (no admin, owner unknown)
  uint64_t refused_recipients = 0;  // recipients a server refused in mails it took
  size_t pending = 0;               // queued or being sent now
  std::string last_error;
};

class SmtpNoticeSink : public guardian::NoticeSink {
 public:
  // `settings` must have passed validate() and be enabled(); `lookup` may be empty (then only
  // the owner_domain fallback names owners). Starts the sending thread.
  SmtpNoticeSink(SmtpSettings settings, OwnerLookup lookup, SinkOptions options = {});
  // Lets queued mails go out for at most options.shutdown_drain, then abandons the rest
  // (interrupting a send in progress) and joins the thread.
  ~SmtpNoticeSink() override;
  SmtpNoticeSink(const SmtpNoticeSink&) = delete;
  SmtpNoticeSink& operator=(const SmtpNoticeSink&) = delete;

  // Composes the mail and queues it; never blocks on the network, never throws.
  void send(const guardian::Notice& notice) override;

  // The owner's address (lookup, else owner_domain), then the admins; no duplicates.
  std::vector<std::string> recipients_for(const guardian::Notice& notice) const;

  // Waits until nothing is queued or being sent, at most `timeout`; true if so.
  bool wait_idle(std::chrono::milliseconds timeout);
  SinkStats stats() const;

 private:
  void run();
  void deliver(const Mail& mail, std::unique_lock<std::mutex>& lk);

  const SmtpSettings settings_;
  const OwnerLookup lookup_;
  const SinkOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work queued, stop, abort
  std::condition_variable idle_cv_;  // the queue ran empty
  std::deque<Mail> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::atomic<bool> abort_{false};
  bool failing_ = false;  // a failure streak is on (logged at its start and its end)
  uint64_t streak_failed_ = 0;
  bool overflowing_ = false;
  uint64_t overflow_dropped_ = 0;
  std::set<std::string> warned_refused_;
  SinkStats stats_;
  std::thread thread_;
};

}  // namespace pulse::smtp
