#pragma once
// Memory and disk alarms, as RabbitMQ's vm_memory_high_watermark and disk_free_limit: sampled
// periodically on the event loop; while either alarm is on, publishing connections are blocked.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "server/asio.h"

namespace pulse::server {

struct ResourceLimits {
  uint64_t memory_high_watermark = 0;  // bytes of RSS; 0 = no memory alarm
  uint64_t disk_free_limit = 0;        // bytes free on the data dir's filesystem; 0 = none
  std::string data_dir;
  std::chrono::milliseconds interval{500};
};

class ResourceMonitor {
 public:
  ResourceMonitor(boost::asio::io_context& io, ResourceLimits limits);
  // `on_change(alarmed)` runs on the event loop whenever the combined alarm flips.
  void start(std::function<void(bool)> on_change);
  void stop();
  bool alarmed() const { return memory_alarm_ || disk_alarm_; }
  bool memory_alarm() const { return memory_alarm_; }
  bool disk_alarm() const { return disk_alarm_; }
  // Samples now (also called by the timer).
  void check();
  // Bytes just read from clients. A fast publisher can write hundreds of MB between two timer
  // samples, so every `ingress_step` bytes read also trigger a sample: the alarm then trips
  // within a small fraction of the limit, not a whole interval late.
  void note_ingress(size_t bytes) {
    ingress_ += bytes;
    if (ingress_ >= ingress_step_ && !stopped_) {
      ingress_ = 0;
      check();
    }
  }

  static uint64_t resident_bytes();
  static uint64_t total_memory_bytes();
  static uint64_t disk_free_bytes(const std::string& path);

 private:
  void arm();

  boost::asio::steady_timer timer_;
  ResourceLimits limits_;
  std::function<void(bool)> on_change_;
  bool memory_alarm_ = false;
  bool disk_alarm_ = false;
  bool stopped_ = false;
  uint64_t ingress_ = 0;
  uint64_t ingress_step_ = UINT64_MAX;  // set by start() when there is a memory limit
};

}  // namespace pulse::server
