#include "store/storage_thread.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <latch>
#include <set>
#include <thread>

#include "test_util.h"

namespace pulse::store {
namespace {

using testing::TempDir;

std::shared_ptr<File> make_file(const std::string& path) {
  auto f = File::open(path, O_RDWR | O_CREAT | O_APPEND);
  EXPECT_TRUE(f.ok());
  return *f;
}

// The ids of this process's threads.
std::set<int> threads() {
  std::set<int> out;
  DIR* d = ::opendir("/proc/self/task");
  EXPECT_NE(d, nullptr);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') out.insert(std::atoi(e->d_name));
  }
  ::closedir(d);
  return out;
}

// A thread that was joined may stay listed for a moment while the kernel reaps it: these wait
// for the list to settle instead of reading it once.
std::set<int> settled_threads() {
  std::set<int> last = threads();
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::set<int> now = threads();
    if (now == last) return now;
    last = now;
  }
  return last;
}

bool threads_become(const std::set<int>& want) {
  for (int i = 0; i < 400; ++i) {
    if (threads() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::vector<std::shared_ptr<File>> make_files(const TempDir& tmp, int n) {
  std::vector<std::shared_ptr<File>> files;
  for (int i = 0; i < n; ++i) files.push_back(make_file(tmp.sub("f" + std::to_string(i))));
  return files;
}

TEST(StorageThread, CompletionsArriveThroughPost) {
  TempDir tmp;
  auto file = make_file(tmp.sub("a"));
  std::atomic<int> posted{0}, done{0};
  {
    StorageThread st([&](std::function<void()> fn) {
      posted++;
      fn();
    });
    for (int i = 0; i < 20; ++i) {
      st.submit({{file}, [&](const Status& s) {
                   EXPECT_TRUE(s.ok());
                   done++;
                 }});
    }
    st.drain();
    EXPECT_EQ(done.load(), 20);
    auto stats = st.stats();
    EXPECT_EQ(stats.requests, 20u);
    EXPECT_EQ(stats.syncs, stats.rounds);  // one file: one sync per round, never per request
    EXPECT_EQ(uint64_t(posted.load()), stats.rounds);  // one post per round
  }
}

TEST(StorageThread, RequestsQueuedDuringASyncShareOneRound) {
  TempDir tmp;
  auto a = make_file(tmp.sub("a"));
  auto b = make_file(tmp.sub("b"));
  std::latch release(1);
  std::atomic<int> done{0};
  StorageThread st([&](std::function<void()> fn) {
    release.wait();  // hold the thread after round 1 while more requests pile up
    fn();
  });
  st.submit({{a}, [&](const Status&) { done++; }});
  // Give the thread time to take request 1 alone (the assertion below tolerates either case).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 50; ++i) st.submit({{a, b}, [&](const Status&) { done++; }});
  release.count_down();
  st.drain();
  EXPECT_EQ(done.load(), 51);
  auto stats = st.stats();
  EXPECT_LE(stats.rounds, 2u);
  EXPECT_LE(stats.syncs, 3u);  // a; then a and b once each for 50 requests
}

TEST(StorageThread, SyncFailureReachesOnlyTheRequestsNamingTheFile) {
  TempDir tmp;
  auto good = make_file(tmp.sub("good"));
  // fdatasync on a pipe fails with EINVAL: a stand-in for a failing disk.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  auto bad = File::open("/proc/self/fd/" + std::to_string(fds[0]), O_RDONLY | O_NONBLOCK);
  ::close(fds[0]);
  ASSERT_TRUE(bad.ok());
  std::atomic<int> ok_count{0}, failed{0};
  StorageThread st([](std::function<void()> fn) { fn(); });
  st.submit({{good}, [&](const Status& s) { s.ok() ? ok_count++ : failed++; }});
  st.submit({{good, *bad}, [&](const Status& s) { s.ok() ? ok_count++ : failed++; }});
  st.drain();
  EXPECT_EQ(ok_count.load(), 1);
  EXPECT_EQ(failed.load(), 1);
}

TEST(StorageThread, DestructorCompletesQueuedRequests) {
  TempDir tmp;
  auto a = make_file(tmp.sub("a"));
  std::atomic<int> done{0};
  {
    StorageThread st([](std::function<void()> fn) { fn(); });
    for (int i = 0; i < 10; ++i) st.submit({{a}, [&](const Status&) { done++; }});
  }
  EXPECT_EQ(done.load(), 10);
}

TEST(StorageThread, ParallelSyncHelpersAreStartedOnceAndReused) {
  TempDir tmp;
  auto files = make_files(tmp, 6);
  const std::set<int> before = settled_threads();
  {
    StorageThread st([](std::function<void()> fn) { fn(); }, 4);
    std::atomic<int> done{0};
    st.submit({files, [&](const Status& s) { s.ok() ? done++ : done--; }});
    st.drain();
    // The storage thread and three helpers (the fourth lane is the storage thread's own).
    const std::set<int> after_first = settled_threads();
    EXPECT_EQ(after_first.size(), before.size() + 4);
    for (int i = 0; i < 30; ++i) {
      st.submit({files, [&](const Status& s) { s.ok() ? done++ : done--; }});
      st.drain();  // one round each
    }
    EXPECT_EQ(done.load(), 31);
    EXPECT_EQ(settled_threads(), after_first);  // the same threads, none started or ended
    auto stats = st.stats();
    EXPECT_EQ(stats.rounds, 31u);
    EXPECT_EQ(stats.syncs, 31u * 6);
    EXPECT_EQ(stats.sync_workers, 3u);
  }
  EXPECT_TRUE(threads_become(before));  // every helper joined at stop
}

TEST(StorageThread, OneFileRoundsStartNoHelper) {
  TempDir tmp;
  auto a = make_file(tmp.sub("a"));
  StorageThread st([](std::function<void()> fn) { fn(); }, 8);
  for (int i = 0; i < 5; ++i) {
    st.submit({{a}, nullptr});
    st.drain();
  }
  EXPECT_EQ(st.stats().sync_workers, 0u);
}

TEST(StorageThread, StopWhileIdleJoinsHelpers) {
  TempDir tmp;
  auto files = make_files(tmp, 3);
  const std::set<int> before = settled_threads();
  auto st = std::make_unique<StorageThread>([](std::function<void()> fn) { fn(); }, 3);
  st->submit({files, nullptr});
  st->drain();
  EXPECT_EQ(settled_threads().size(), before.size() + 3);
  st.reset();
  EXPECT_TRUE(threads_become(before));
}

TEST(StorageThread, StopWhileARoundIsInFlightCompletesEverything) {
  TempDir tmp;
  auto files = make_files(tmp, 5);
  const std::set<int> before = settled_threads();
  std::latch in_post(1), release(1);
  std::atomic<int> posts{0}, ok_count{0}, failed{0};
  auto st = std::make_unique<StorageThread>(
      [&](std::function<void()> fn) {
        if (posts++ == 0) {
          in_post.count_down();
          release.wait();  // round 1 is still in flight while the owner stops the thread
        }
        fn();
      },
      4);
  auto check = [&](const Status& s) { s.ok() ? ok_count++ : failed++; };
  st->submit({files, check});
  in_post.wait();
  for (int i = 0; i < 10; ++i) st->submit({{files[i % 5], files[(i + 1) % 5]}, check});
  std::thread stopper([&] { st.reset(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ok_count.load(), 0);  // nothing completes before round 1 is posted
  release.count_down();
  stopper.join();
  EXPECT_EQ(ok_count.load(), 11);  // round 1 and everything queued behind it
  EXPECT_EQ(failed.load(), 0);
  EXPECT_TRUE(threads_become(before));
}

}  // namespace
}  // namespace pulse::store
