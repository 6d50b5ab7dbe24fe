// A full disk under a QueueLog: writes that fail part-way must leave no torn bytes behind, fail
// only that flush, and let the log carry on (and recover everything) once there is room again.
// The full disk is RLIMIT_FSIZE: a write past the limit is cut short, then fails with EFBIG,
// exactly as write(2) behaves on a filesystem that runs out of space part-way.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "store/queue_log.h"
#include "test_util.h"

namespace pulse::store {
namespace {

using testing::bytes;
using testing::TempDir;

// Files may not grow past `limit` bytes while it lives.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t limit) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit now = old_;
    now.rlim_cur = limit;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &now), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

std::string body(int i) {
  return "message-" + std::to_string(i) + std::string(200, 'x');
}

std::vector<std::string> recover(const std::string& dir) {
  std::vector<std::string> out;
  auto log = QueueLog::open(dir, {}, [&](const RecoveredMessage& m) {
    out.emplace_back(m.payload.begin(), m.payload.end());
  });
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().text);
  return out;
}

TEST(QueueLogFullDisk, AFailedFlushLeavesNoTornBytesAndIsRetriedOnceThereIsRoom) {
  TempDir tmp;
  const std::string dir = tmp.sub("q");
  const std::string seg = dir + "/00000001.seg";
  {
    auto log = QueueLog::open(dir, {});
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE((*log)->append(bytes(body(i))).ok());
    ASSERT_TRUE((*log)->sync().ok());
    const auto before = std::filesystem::file_size(seg);
    for (int i = 11; i <= 40; ++i) ASSERT_TRUE((*log)->append(bytes(body(i))).ok());
    {
      FileSizeLimit full(before + 1000);  // room for a few of the 30 buffered records
      auto f = (*log)->flush();
      ASSERT_FALSE(f.ok());
      EXPECT_NE(f.error().text.find("File too large"), std::string::npos) << f.error().text;
      // The part that fitted was cut off again: the file ends at a record boundary.
      EXPECT_EQ(std::filesystem::file_size(seg), before);
      // Buffered messages can still be read.
      auto r = (*log)->read(25);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(std::string(r->begin(), r->end()), body(25));
    }
    // Room again: the same log writes everything (no "unusable after an I/O error").
    ASSERT_TRUE((*log)->append(bytes(body(41))).ok());
    ASSERT_TRUE((*log)->sync().ok()) << "the log must outlive the full disk";
  }
  auto all = recover(dir);
  ASSERT_EQ(all.size(), 41u);
  for (int i = 1; i <= 41; ++i) EXPECT_EQ(all[i - 1], body(i));
}

TEST(QueueLogFullDisk, AFailedAckLogWriteKeepsItsAcks) {
  TempDir tmp;
  const std::string dir = tmp.sub("q");
  {
    auto log = QueueLog::open(dir, {});
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE((*log)->append(bytes(body(i))).ok());
    ASSERT_TRUE((*log)->sync().ok());
    for (uint64_t s = 1; s <= 10; ++s) ASSERT_TRUE((*log)->ack(s).ok());
    {
      FileSizeLimit full(1);  // acks.log is empty: not even one record fits
      EXPECT_FALSE((*log)->flush().ok());
      EXPECT_EQ(std::filesystem::file_size(dir + "/acks.log"), 0u);
    }
    ASSERT_TRUE((*log)->sync().ok());
  }
  auto left = recover(dir);
  ASSERT_EQ(left.size(), 10u);
  EXPECT_EQ(left.front(), body(11));
}

TEST(QueueLogFullDisk, ANewSegmentThatCannotBeCreatedFailsTheAppendOnly) {
  TempDir tmp;
  const std::string dir = tmp.sub("q");
  QueueLogOptions small;
  small.segment_bytes = 4096;
  int last = 0;
  {
    auto log = QueueLog::open(dir, small);
    ASSERT_TRUE(log.ok());
    int i = 1;
    // Fill the first segment up to where the next append needs a new one.
    while ((*log)->disk_bytes() + 300 < small.segment_bytes) {
      ASSERT_TRUE((*log)->append(bytes(body(i++))).ok());
    }
    ASSERT_TRUE((*log)->sync().ok());
    {
      FileSizeLimit full(10);  // a new segment's 24-byte header does not fit
      auto r = (*log)->append(bytes(body(i)));
      EXPECT_FALSE(r.ok());
      EXPECT_FALSE(std::filesystem::exists(dir + "/00000002.seg"));
    }
    // Room again: the append that failed is simply done again.
    ASSERT_TRUE((*log)->append(bytes(body(i))).ok());
    ASSERT_TRUE((*log)->sync().ok());
    last = i;
  }
  auto all = recover(dir);
  ASSERT_EQ(all.size(), size_t(last));
  EXPECT_EQ(all.back(), body(last));
}

}  // namespace
}  // namespace pulse::store
