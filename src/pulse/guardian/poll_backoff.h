#pragma once
// When to poll next, PulseGuardian's way: every `interval` while polls succeed; after an error
// the wait grows by `interval` per consecutive error (5 s: 10, 15, ... s) up to `max` (300 s),
// and the first success goes back to `interval`. Admins are told once per run of errors.
#include <chrono>

namespace pulse::guardian {

class PollBackoff {
 public:
  explicit PollBackoff(std::chrono::seconds interval = std::chrono::seconds(5),
                       std::chrono::seconds max = std::chrono::seconds(300));

  struct AfterError {
    std::chrono::seconds delay;
    bool notify_admins;  // the first error since the last success
  };
  AfterError on_error();
  std::chrono::seconds on_success();

  unsigned consecutive_errors() const { return errors_; }

 private:
  std::chrono::seconds interval_;
  std::chrono::seconds max_;
  unsigned errors_ = 0;
};

}  // namespace pulse::guardian
