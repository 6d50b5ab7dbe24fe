#include "server/resource_monitor.h"

#include <malloc.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "base/log.h"

namespace pulse::server {

namespace {
// Reading /proc/self/statm costs microseconds: sampling once per MiB read is noise even for a
// publisher at wire speed.
constexpr uint64_t kMinIngressStep = 1 << 20;
}  // namespace

ResourceMonitor::ResourceMonitor(boost::asio::io_context& io, ResourceLimits limits)
    : timer_(io), limits_(std::move(limits)) {}

void ResourceMonitor::start(std::function<void(bool)> on_change) {
  on_change_ = std::move(on_change);
  if (limits_.memory_high_watermark == 0 && limits_.disk_free_limit == 0) return;
  if (limits_.memory_high_watermark != 0)
    ingress_step_ = std::max<uint64_t>(kMinIngressStep, limits_.memory_high_watermark / 32);
  check();
  arm();
}

void ResourceMonitor::stop() {
  stopped_ = true;
  timer_.cancel();
}

void ResourceMonitor::arm() {
  timer_.expires_after(limits_.interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    check();
    arm();
  });
}

void ResourceMonitor::check() {
  const bool before = alarmed();
  if (limits_.memory_high_watermark != 0) {
    uint64_t rss = resident_bytes();
    // glibc keeps freed heap pages mapped; over the limit, hand them back before judging, so
    // that the alarm follows live data and clears once queues are drained.
    if (rss > limits_.memory_high_watermark) {
      ::malloc_trim(0);
      rss = resident_bytes();
    }
    const bool on = rss > limits_.memory_high_watermark;
    if (on != memory_alarm_) {
      spdlog::warn("memory resource limit alarm {} (used {} bytes, limit {})",
                   on ? "set" : "cleared", rss, limits_.memory_high_watermark);
    }
    memory_alarm_ = on;
  }
  if (limits_.disk_free_limit != 0) {
    const uint64_t free = disk_free_bytes(limits_.data_dir);
    const bool on = free < limits_.disk_free_limit;
    if (on != disk_alarm_) {
      spdlog::warn("disk resource limit alarm {} (free {} bytes, limit {})", on ? "set" : "cleared",
                   free, limits_.disk_free_limit);
    }
    disk_alarm_ = on;
  }
  if (before != alarmed() && on_change_) on_change_(alarmed());
}

uint64_t ResourceMonitor::resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t ResourceMonitor::total_memory_bytes() {
  return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
         static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t ResourceMonitor::disk_free_bytes(const std::string& path) {
  struct statvfs s {};
  if (statvfs(path.empty() ? "." : path.c_str(), &s) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

}  // namespace pulse::server
