#include "store/storage_thread.h"

#include <algorithm>
#include <map>

namespace pulse::store {

StorageThread::StorageThread(Post post, size_t sync_parallelism)
    : post_(std::move(post)), lanes_(sync_parallelism), thread_([this] { run(); }) {}

StorageThread::~StorageThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // lanes_ joins its workers when it is destroyed, after the storage thread stopped using it.
}

void StorageThread::submit(SyncRequest request) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(request));
  }
  cv_.notify_one();
}

void StorageThread::drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

StorageStats StorageThread::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void StorageThread::sync_all(std::map<File*, Status>& outcome) {
  // Files on different queues are synced concurrently: each fdatasync waits for the device,
  // and doing them one after another would make a round as slow as the sum of its files.
  std::vector<std::pair<File* const, Status>*> items;
  for (auto& entry : outcome) items.push_back(&entry);
  size_t lanes = std::min(lanes_.max_lanes(), items.size());
  lanes_.run(lanes, [&](size_t first) {
    for (size_t i = first; i < items.size(); i += lanes) items[i]->second = items[i]->first->sync();
  });
}

void StorageThread::run() {
  std::deque<SyncRequest> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      batch.swap(queue_);
      busy_ = true;
    }
    // Each distinct file once, whatever the number of requests naming it.
    std::map<File*, Status> outcome;
    for (const auto& req : batch) {
      for (const auto& f : req.files) outcome.emplace(f.get(), Status());
    }
    uint64_t syncs = outcome.size();
    sync_all(outcome);
    std::vector<std::function<void()>> completions;
    completions.reserve(batch.size());
    for (auto& req : batch) {
      Status result;
      for (const auto& f : req.files) {
        const Status& s = outcome[f.get()];
        if (!s.ok()) {
          result = s;
          break;
        }
      }
      if (req.done) completions.push_back([done = std::move(req.done), result] { done(result); });
    }
    size_t n = batch.size();
    batch.clear();  // drops file references before the owner hears back
    if (!completions.empty()) {
      post_([cs = std::move(completions)] {
        for (const auto& c : cs) c();
      });
    }
    std::lock_guard lock(mu_);
    stats_.requests += n;
    stats_.rounds++;
    stats_.syncs += syncs;
    stats_.sync_workers = lanes_.workers();
  }
}

}  // namespace pulse::store
