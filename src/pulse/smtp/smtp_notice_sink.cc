#include "pulse/smtp/smtp_notice_sink.h"

#include <pthread.h>

#include <algorithm>

#include "base/log.h"
#include "pulse/smtp/smtp_client.h"

namespace pulse::smtp {
namespace {

// For the log: a queue name with a newline must not forge a log line.
std::string printable(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

}  // namespace

SmtpNoticeSink::SmtpNoticeSink(SmtpSettings settings, OwnerLookup lookup, SinkOptions options)
    : settings_(std::move(settings)), lookup_(std::move(lookup)), options_(options) {
  thread_ = std::thread([this] { run(); });
}

SmtpNoticeSink::~SmtpNoticeSink() {
  std::unique_lock lk(mu_);
  stop_ = true;
  cv_.notify_all();
  idle_cv_.wait_for(lk, options_.shutdown_drain, [&] { return queue_.empty() && !busy_; });
  const size_t abandoned = queue_.size() + (busy_ ? 1 : 0);
  abort_ = true;
  cv_.notify_all();
  lk.unlock();
  thread_.join();
  if (abandoned > 0) {
    spdlog::warn("SMTP: shutting down with {} guardian notice mail(s) not sent", abandoned);
  }
}

std::vector<std::string> SmtpNoticeSink::recipients_for(const guardian::Notice& n) const {
  std::vector<std::string> to;
  if (n.owner && !n.owner->empty()) {
    std::optional<std::string> addr;
    if (lookup_) addr = lookup_(*n.owner);
    if (addr) {
      if (auto why = address_problem(*addr)) {
        spdlog::warn("SMTP: owner '{}' has an unusable address: {}; only admins are mailed",
                     *n.owner, *why);
        addr.reset();
      }
    } else if (!settings_.owner_domain.empty()) {
      addr = *n.owner + "@" + settings_.owner_domain;
      if (auto why = address_problem(*addr)) {
        spdlog::warn("SMTP: owner '{}' makes no address with pulse.smtp.owner_domain: {}", *n.owner,
                     *why);
        addr.reset();
      }
    }
    if (addr) to.push_back(*addr);
  }
  for (auto& a : admin_addresses(settings_)) {
    if (std::find(to.begin(), to.end(), a) == to.end()) to.push_back(std::move(a));
  }
  return to;
}

void SmtpNoticeSink::send(const guardian::Notice& notice) {
  try {
    std::vector<std::string> to = recipients_for(notice);
    std::unique_lock lk(mu_);
    if (to.empty()) {
      ++stats_.no_recipient;
      return;
    }
    Mail mail =
        notice_mail(notice, settings_.from, std::move(to), std::chrono::system_clock::now());
    if (queue_.size() >= options_.queue_capacity && !queue_.empty()) {
      queue_.pop_front();
      ++stats_.dropped_overflow;
      ++overflow_dropped_;
      if (!overflowing_) {
        overflowing_ = true;
        spdlog::warn("SMTP: {} guardian notice mails are waiting; dropping the oldest ones",
                     options_.queue_capacity);
      }
    }
    queue_.push_back(std::move(mail));
    ++stats_.queued;
    cv_.notify_all();
  } catch (const std::exception& e) {
    spdlog::error("SMTP: could not queue a guardian notice mail: {}", e.what());
  } catch (...) {
    spdlog::error("SMTP: could not queue a guardian notice mail");
  }
}

bool SmtpNoticeSink::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return idle_cv_.wait_for(lk, timeout, [&] { return queue_.empty() && !busy_; });
}

SinkStats SmtpNoticeSink::stats() const {
  std::lock_guard lk(mu_);
  SinkStats s = stats_;
  s.pending = queue_.size() + (busy_ ? 1 : 0);
  return s;
}

void SmtpNoticeSink::run() {
  pthread_setname_np(pthread_self(), "pulse-smtp");
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stop_ || abort_ || !queue_.empty(); });
    if (abort_ || queue_.empty()) break;
    Mail mail = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    deliver(mail, lk);
    busy_ = false;
    if (queue_.empty()) {
      if (overflowing_) {
        spdlog::warn(
            "SMTP: the mail queue is empty again; {} guardian notice mail(s) were "
            "dropped while it was full",
            overflow_dropped_);
        overflowing_ = false;
        overflow_dropped_ = 0;
      }
      idle_cv_.notify_all();
    }
  }
  idle_cv_.notify_all();
}

// Called and returns with `lk` held; sends with it released.
void SmtpNoticeSink::deliver(const Mail& mail, std::unique_lock<std::mutex>& lk) {
  SmtpClient client(settings_, &abort_);
  auto delay = options_.first_retry_delay;
  std::string error;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    lk.unlock();
    auto r = client.send(mail);
    lk.lock();
    if (r) {
      ++stats_.sent;
      for (const auto& refused : r->refused) {
        ++stats_.refused_recipients;
        // Once per address: a mistyped owner address would otherwise be logged every mail.
        if (warned_refused_.size() < 1000 && warned_refused_.insert(refused).second) {
          spdlog::warn("SMTP: {} refused a recipient of a guardian notice mail: {}", client.url(),
                       refused);
        }
      }
      if (failing_) {
        spdlog::info("SMTP: guardian notice mails go through {} again ({} lost meanwhile)",
                     client.url(), streak_failed_);
        failing_ = false;
        streak_failed_ = 0;
      }
      return;
    }
    error = r.error().text;
    if (r.error().code == kPermanent || abort_) break;
    if (attempt < options_.max_attempts) {
      if (cv_.wait_for(lk, delay, [&] { return abort_.load(); })) break;
      delay *= 2;
    }
  }
  ++stats_.failed;
  stats_.last_error = error;
  if (abort_) return;  // the destructor counts and logs what shutting down abandons
  ++streak_failed_;
  if (!failing_) {
    failing_ = true;
    // Once per streak: an outage would otherwise log every notice.
    spdlog::error(
        "SMTP: cannot send guardian notice mail \"{}\": {} (further failures are not "
        "logged until a mail goes through)",
        printable(mail.subject), error);
  } else {
    spdlog::debug("SMTP: guardian notice mail not sent: {}", error);
  }
}

}  // namespace pulse::smtp
