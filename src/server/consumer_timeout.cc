#include "server/consumer_timeout.h"

#include <ctime>

namespace pulse::server {

int64_t coarse_now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string consumer_timeout_text(uint16_t channel, uint32_t timeout_ms) {
  return "PRECONDITION_FAILED - delivery acknowledgement on channel " + std::to_string(channel) +
         " timed out. Timeout value used: " + std::to_string(timeout_ms) +
         " ms. This timeout value can be configured, see consumers doc guide to learn more";
}

}  // namespace pulse::server
