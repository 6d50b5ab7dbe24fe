#include "auth/failure_limiter.h"

namespace pulse::auth {

bool FailureLimiter::blocked(std::string_view address, Clock::time_point now) const {
  if (options_.max_failures == 0) return false;
  auto it = entries_.find(std::string(address));
  return it != entries_.end() && now < it->second.blocked_until;
}

bool FailureLimiter::expired(const Entry& e, Clock::time_point now) const {
  return now >= e.blocked_until && now - e.window_start >= options_.window;
}

void FailureLimiter::record_failure(std::string_view address, Clock::time_point now) {
  if (options_.max_failures == 0 || options_.max_tracked == 0) return;
  std::string key(address);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_tracked) make_room(now);
    it = entries_.emplace(std::move(key), Entry{now, now, now, 0}).first;
  }
  Entry& e = it->second;
  if (now - e.window_start >= options_.window) {
    e.window_start = now;
    e.failures = 0;
  }
  e.last_failure = now;
  if (++e.failures >= options_.max_failures) {
    e.blocked_until = now + options_.block_for;
    // The block is its own window: counting starts afresh when it ends.
    e.window_start = e.blocked_until;
    e.failures = 0;
  }
}

// Only runs when the table is full (an attack from many addresses): one pass, O(max_tracked).
void FailureLimiter::make_room(Clock::time_point now) {
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (expired(it->second, now)) {
      entries_.erase(it);
      return;
    }
    if (oldest == entries_.end() || it->second.last_failure < oldest->second.last_failure)
      oldest = it;
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

}  // namespace pulse::auth
