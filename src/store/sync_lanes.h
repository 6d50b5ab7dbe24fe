#pragma once
// Long-lived helper threads for the storage thread's parallel fdatasyncs. A round's files are
// split into lanes; lane 0 runs on the caller (the storage thread), lanes 1.. on workers that
// are started the first time a round needs them and then wait for the next round, so a
// steady confirmed-publish load creates no thread per group commit.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pulse::store {

class SyncLanes {
 public:
  explicit SyncLanes(size_t max_lanes);
  // Joins the workers. Never called while run() is in progress (the owner calls both).
  ~SyncLanes();
  SyncLanes(const SyncLanes&) = delete;
  SyncLanes& operator=(const SyncLanes&) = delete;

  size_t max_lanes() const { return max_lanes_; }
  // Runs fn(0) .. fn(lanes - 1) at the same time (lanes is capped at max_lanes()) and returns
  // when every call has returned. Called by one thread at a time.
  void run(size_t lanes, const std::function<void(size_t)>& fn);
  // Worker threads started so far (at most max_lanes() - 1).
  size_t workers() const { return workers_.size(); }

 private:
  // `seen`: the last round before this worker existed.
  void work(size_t lane, uint64_t seen);

  const size_t max_lanes_;
  std::mutex mu_;
  std::condition_variable start_cv_;  // a round began / stopping
  std::condition_variable done_cv_;   // the last lane of a round finished
  const std::function<void(size_t)>* job_ = nullptr;
  size_t lanes_ = 0;
  uint64_t round_ = 0;
  size_t pending_ = 0;  // worker lanes of the current round still running
  bool stop_ = false;
  std::vector<std::thread> workers_;  // workers_[i] runs lane i + 1
};

}  // namespace pulse::store
