#include "pulse/backoff.h"

#include <algorithm>
#include <cmath>

namespace pulse {

Backoff::Backoff(BackoffOptions options, uint64_t seed) : options_(options), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  const double initial = static_cast<double>(std::max<int64_t>(options_.initial.count(), 1));
  const double max = static_cast<double>(std::max<int64_t>(options_.max.count(), 1));
  // Cap the exponent so pow() cannot overflow however long the broker stays away.
  const double grown =
      initial * std::pow(std::max(options_.multiplier, 1.0), std::min(attempts_, 64u));
  const double d = std::min(grown, max);
  ++attempts_;
  const double jitter = std::clamp(options_.jitter, 0.0, 1.0);
  std::uniform_real_distribution<double> dist(d * (1.0 - jitter), d);
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(dist(rng_))));
}

void Backoff::reset() {
  attempts_ = 0;
}

}  // namespace pulse
