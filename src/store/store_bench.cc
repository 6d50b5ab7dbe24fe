// pulse_store_bench DIR: recovery time for 1 M small records and group-commit rates for
// 1 KiB records. Not a test; its figures go into README.md.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "store/file.h"
#include "store/queue_log.h"
#include "store/storage_thread.h"

using namespace pulse::store;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

static int bench_recovery(const std::string& dir, uint64_t n, size_t payload) {
  (void)remove_all(dir);
  std::vector<uint8_t> body(payload, 'x');
  {
    auto log = QueueLog::open(dir, {});
    if (!log) return std::printf("open: %s\n", log.error().text.c_str()), 1;
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      if (!(*log)->append(body)) return 1;
      if (i % 3 == 0) (void)(*log)->mark_delivered(i + 1);
    }
    if (!(*log)->sync()) return 1;
    std::printf("write %llu x %zu B: %.2f s, %.1f MiB on disk\n", (unsigned long long)n, payload,
                since(t0), (*log)->disk_bytes() / 1048576.0);
  }
  for (bool bodies : {true, false}) {
    uint64_t seen = 0, bytes = 0;
    auto t0 = Clock::now();
    QueueLog::RecoverFn fn;
    if (bodies) fn = [&](const RecoveredMessage& m) { seen++, bytes += m.payload.size(); };
    auto log = QueueLog::open(dir, {}, fn);
    if (!log) return 1;
    double t = since(t0);
    std::printf("recover %s: %.3f s, %llu live (%llu delivered), %llu problems\n",
                bodies ? "with bodies" : "index only", t,
                (unsigned long long)(*log)->recovery_report().live_messages,
                (unsigned long long)(*log)->recovery_report().delivered_messages,
                (unsigned long long)(*log)->recovery_report().problems.size());
  }
  return 0;
}

// One "event loop" appends 1 KiB records with at most `window` unconfirmed; after each burst it
// flushes and submits one sync request. Completions come back through post().
static int bench_group_commit(const std::string& dir, uint64_t n, uint64_t window, int queues) {
  (void)remove_all(dir);
  std::vector<std::unique_ptr<QueueLog>> logs;
  for (int q = 0; q < queues; ++q) {
    auto log = QueueLog::open(dir + "/" + std::to_string(q), {});
    if (!log) return 1;
    logs.push_back(std::move(*log));
  }
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> inbox;
  StorageThread st([&](std::function<void()> f) {
    std::lock_guard lock(mu);
    inbox.push_back(std::move(f));
    cv.notify_one();
  });
  std::vector<uint8_t> body(1024, 'y');
  uint64_t appended = 0, confirmed = 0;
  auto t0 = Clock::now();
  while (confirmed < n) {
    uint64_t burst = 0;
    while (appended < n && appended - confirmed < window && burst < 4096) {
      if (!logs[appended % queues]->append(body)) return 1;
      ++appended, ++burst;
    }
    if (burst > 0) {
      SyncRequest req;
      for (auto& l : logs) {
        auto files = l->flush();
        if (!files) return 1;
        req.files.insert(req.files.end(), files->begin(), files->end());
      }
      req.done = [&confirmed, burst](const pulse::Status& s) {
        if (s.ok()) confirmed += burst;
      };
      st.submit(std::move(req));
    }
    std::unique_lock lock(mu);
    if (appended - confirmed >= window || appended == n) {
      cv.wait(lock, [&] { return !inbox.empty(); });
    }
    auto work = std::move(inbox);
    inbox.clear();
    lock.unlock();
    for (auto& f : work) f();
  }
  double t = since(t0);
  st.drain();
  auto stats = st.stats();
  std::printf(
      "group commit: %d queue(s), window %llu: %.0f records/s (%.1f MiB/s), %.0f fdatasync/s, "
      "%.0f group commits/s, %.1f records per commit\n",
      queues, (unsigned long long)window, n / t, n / t / 1024.0, stats.syncs / t, stats.rounds / t,
      double(n) / stats.rounds);
  return 0;
}

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp/pulse_store_bench";
  if (bench_recovery(dir + "/recovery", 1000000, 64)) return 1;
  for (uint64_t w : {1, 64, 1024, 8192})
    if (w != 1 || argc < 3) {
      if (bench_group_commit(dir + "/gc", w == 1 ? 2000 : 200000, w, 1)) return 1;
    }
  if (bench_group_commit(dir + "/gc", 200000, 8192, 8)) return 1;
  (void)remove_all(dir);
  return 0;
}
