#include "store/storage_thread.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
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

}  // namespace
}  // namespace pulse::store
