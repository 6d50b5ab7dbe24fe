#pragma once
// Reconnect delays: exponential back-off with jitter, so that many clients cut off together do
// not reconnect in lock step, and a client never busy-loops against a dead broker.
#include <chrono>
#include <cstdint>
#include <random>

namespace pulse {

struct BackoffOptions {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  // Each delay is drawn uniformly from [d * (1 - jitter), d] where d is the un-jittered delay.
  double jitter = 0.5;
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions options = {}, uint64_t seed = std::random_device{}());
  // The delay before the next attempt; grows until `max` and stays there.
  std::chrono::milliseconds next();
  // After a success: the next failure starts again at `initial`.
  void reset();
  unsigned attempts() const { return attempts_; }

 private:
  BackoffOptions options_;
  std::mt19937_64 rng_;
  unsigned attempts_ = 0;
};

}  // namespace pulse
