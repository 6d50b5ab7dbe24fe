#pragma once
// Group commit. The event loop hands over "make these files durable" requests; one thread
// takes every request queued since its last round, fdatasyncs each distinct file once, and
// posts all their completions back in one go through the owner's `post` function (the
// broker wraps its event loop's post; tests run completions inline). While a round is
// syncing, new requests pile up and share the next round: many confirms per fdatasync.
//
// Writes themselves stay on the event loop (QueueLog buffers them and write(2)s to the page
// cache at flush()): that keeps QueueLog single-threaded and lets reads see every append,
// while the expensive part, the fdatasync, happens here.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/result.h"
#include "store/file.h"
#include "store/sync_lanes.h"

namespace pulse::store {

struct SyncRequest {
  std::vector<std::shared_ptr<File>> files;
  // Runs on the owner's thread (via post) with the sync outcome: an error means the data may
  // not be on disk; the broker must not confirm (basic.nack) and should treat the queue as
  // failed, since a failed fdatasync can silently drop dirty pages.
  std::function<void(const Status&)> done;
};

struct StorageStats {
  uint64_t requests = 0;      // SyncRequests completed
  uint64_t rounds = 0;        // group commits (one per wake-up with work)
  uint64_t syncs = 0;         // fdatasync/fsync calls
  uint64_t sync_workers = 0;  // helper threads started for parallel syncs (each lives until stop)
};

class StorageThread {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // `post` must be safe to call from the storage thread; it runs the given function on the
  // owner's thread. Starts the thread. Up to `sync_parallelism` files of one round are synced
  // at the same time: the storage thread syncs one lane itself, and up to
  // `sync_parallelism - 1` helpers, started when a round first needs them, sync the others.
  explicit StorageThread(Post post, size_t sync_parallelism = 8);
  // Completes every queued request (a round in flight finishes first), then joins the thread
  // and its helpers.
  ~StorageThread();
  StorageThread(const StorageThread&) = delete;
  StorageThread& operator=(const StorageThread&) = delete;

  // Thread-safe. Never blocks on I/O.
  void submit(SyncRequest request);
  // Blocks until everything submitted so far has been synced and posted (tests, shutdown).
  void drain();
  StorageStats stats() const;

 private:
  void run();
  void sync_all(std::map<File*, Status>& outcome);

  Post post_;
  SyncLanes lanes_;  // used by the storage thread only
  mutable std::mutex mu_;
  std::condition_variable cv_;       // work arrived / stopping
  std::condition_variable idle_cv_;  // a round finished
  std::deque<SyncRequest> queue_;
  bool stop_ = false;
  bool busy_ = false;
  StorageStats stats_;
  std::thread thread_;  // last: started after every member above exists
};

}  // namespace pulse::store
