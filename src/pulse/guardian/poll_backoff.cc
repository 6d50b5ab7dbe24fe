#include "pulse/guardian/poll_backoff.h"

#include <algorithm>

namespace pulse::guardian {

PollBackoff::PollBackoff(std::chrono::seconds interval, std::chrono::seconds max)
    // A zero interval would poll in a busy loop (and divide by zero below).
    : interval_(std::max(interval, std::chrono::seconds(1))), max_(std::max(max, interval_)) {}

PollBackoff::AfterError PollBackoff::on_error() {
  ++errors_;
  // Capped before multiplying, so a guardian failing for days cannot overflow.
  using Rep = std::chrono::seconds::rep;
  const Rep steps = std::min<Rep>(errors_, max_ / interval_);
  const std::chrono::seconds delay = std::min<std::chrono::seconds>(interval_ * (steps + 1), max_);
  return {delay, errors_ == 1};
}

std::chrono::seconds PollBackoff::on_success() {
  errors_ = 0;
  return interval_;
}

}  // namespace pulse::guardian
