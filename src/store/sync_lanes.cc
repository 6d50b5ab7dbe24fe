#include "store/sync_lanes.h"

#include <algorithm>

namespace pulse::store {

SyncLanes::SyncLanes(size_t max_lanes) : max_lanes_(std::max<size_t>(1, max_lanes)) {}

SyncLanes::~SyncLanes() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void SyncLanes::run(size_t lanes, const std::function<void(size_t)>& fn) {
  lanes = std::min(lanes, max_lanes_);
  if (lanes == 0) return;
  if (lanes > 1) {
    uint64_t round = 0;
    {
      std::lock_guard lock(mu_);
      job_ = &fn;
      lanes_ = lanes;
      pending_ = lanes - 1;
      round = ++round_;
    }
    // Only this thread adds workers; one started now joins this round.
    while (workers_.size() < lanes - 1) {
      size_t lane = workers_.size() + 1;
      workers_.emplace_back([this, lane, round] { work(lane, round - 1); });
    }
    start_cv_.notify_all();
  }
  fn(0);
  if (lanes > 1) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
  }
}

void SyncLanes::work(size_t lane, uint64_t seen) {
  std::unique_lock lock(mu_);
  for (;;) {
    start_cv_.wait(lock, [&] { return stop_ || round_ != seen; });
    if (stop_) return;
    seen = round_;
    // run() waits for every lane below lanes_, so this round cannot end without this one.
    if (lane >= lanes_) continue;
    const auto* job = job_;
    lock.unlock();
    (*job)(lane);
    lock.lock();
    if (--pending_ == 0) done_cv_.notify_one();
  }
}

}  // namespace pulse::store
