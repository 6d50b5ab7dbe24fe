#pragma once
// Authentication failures counted per source address, so that one address cannot guess
// passwords at full speed while other addresses (and successful logins) are unaffected.
//
// After `max_failures` failed logins from one address within `window`, that address is
// blocked for `block_for`: its next attempts are refused without looking at the credentials.
// Memory is bounded: at most `max_tracked` addresses are remembered; when full, an expired
// entry is reused, else the least recently failing address is forgotten.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pulse::auth {

struct FailureLimitOptions {
  uint32_t max_failures = 10;  // 0 = no limit
  std::chrono::milliseconds window{60000};
  std::chrono::milliseconds block_for{60000};
  size_t max_tracked = 4096;
  // Loopback clients are local users of the host (guest logs in from there): they are not
  // counted unless this is turned off.
  bool exempt_loopback = true;
};

class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FailureLimiter(FailureLimitOptions options = {}) : options_(options) {}

  // True while `address` is blocked (it met the limit and its block has not run out).
  bool blocked(std::string_view address, Clock::time_point now) const;
  // Counts one failed login from `address`.
  void record_failure(std::string_view address, Clock::time_point now);

  // Whether a client is counted at all (the limit is on, and loopback is not exempt).
  bool applies_to(bool loopback) const {
    return options_.max_failures != 0 && !(loopback && options_.exempt_loopback);
  }
  const FailureLimitOptions& options() const { return options_; }
  size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    Clock::time_point window_start;
    Clock::time_point last_failure;
    Clock::time_point blocked_until;
    uint32_t failures = 0;
  };
  bool expired(const Entry& e, Clock::time_point now) const;
  void make_room(Clock::time_point now);

  FailureLimitOptions options_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace pulse::auth
