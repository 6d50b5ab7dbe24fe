// QueueLog's write buffer: messages acked before they reach the file are never written, and
// nothing on disk refers to them; the others keep their records and delivery marks.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/queue_log.h"
#include "store/record.h"
#include "test_util.h"

namespace pulse::store {
namespace {

using testing::bytes;
using testing::TempDir;

constexpr uint64_t kHeader = 24;  // segment header

struct Seen {
  uint64_t seq;
  bool delivered;
  std::string body;
};

std::unique_ptr<QueueLog> open_log(const std::string& dir, QueueLogOptions opt = {}) {
  auto log = QueueLog::open(dir, opt);
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().text);
  return log.ok() ? std::move(*log) : nullptr;
}

std::vector<Seen> reopen(const std::string& dir, std::unique_ptr<QueueLog>* keep = nullptr,
                         QueueLogOptions opt = {}) {
  std::vector<Seen> seen;
  auto log = QueueLog::open(dir, opt, [&](const RecoveredMessage& m) {
    seen.push_back({m.seq, m.delivered, std::string(m.payload.begin(), m.payload.end())});
  });
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().text);
  if (log.ok()) {
    EXPECT_TRUE((*log)->recovery_report().problems.empty());
  }
  if (keep && log.ok()) *keep = std::move(*log);
  return seen;
}

TEST(QueueLogBuffer, AckedWhileBufferedIsNeverWritten) {
  TempDir tmp;
  {
    auto log = open_log(tmp.path());
    for (auto b : {"a", "b", "c", "d"}) ASSERT_TRUE(log->append(bytes(b)).ok());
    ASSERT_TRUE(log->mark_delivered(1).ok());
    ASSERT_TRUE(log->mark_delivered(2).ok());
    ASSERT_TRUE(log->ack(2).ok());        // delivered and acked within the round
    ASSERT_TRUE(log->ack(3).ok());        // acked without a delivery mark (e.g. dropped)
    EXPECT_EQ(log->ack_log_bytes(), 0u);  // marks of buffered messages wait for the write
    // Still readable from the buffer until written.
    auto d = log->read(4);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(std::string(d->begin(), d->end()), "d");
    auto files = log->flush();
    ASSERT_TRUE(files.ok());
    EXPECT_FALSE(files->empty());
    EXPECT_EQ(log->elided_messages(), 2u);
    // Records of 1 and 4 only, and the delivery mark of 1.
    EXPECT_EQ(std::filesystem::file_size(tmp.sub("00000001.seg")),
              kHeader + 2 * (kRecordHeaderBytes + 1));
    EXPECT_EQ(log->ack_log_bytes(), kRecordHeaderBytes);
    EXPECT_EQ(log->live_messages(), 2u);
    // Reads find the moved record; the elided ones are gone.
    auto r = log->read(4);
    ASSERT_TRUE(r.ok()) << r.error().text;
    EXPECT_EQ(std::string(r->begin(), r->end()), "d");
    EXPECT_FALSE(log->read(2).ok());
    EXPECT_FALSE(log->ack(3).ok());
    ASSERT_TRUE(log->ack(4).ok());  // written: an ack record now
    EXPECT_EQ(log->ack_log_bytes(), 2 * kRecordHeaderBytes);
    ASSERT_TRUE(log->sync().ok());
  }
  std::unique_ptr<QueueLog> log;
  auto seen = reopen(tmp.path(), &log);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].seq, 1u);
  EXPECT_TRUE(seen[0].delivered);
  EXPECT_EQ(seen[0].body, "a");
  EXPECT_EQ(*log->append(bytes("e")), 5u);
}

TEST(QueueLogBuffer, RoundWhollyAckedWritesNothingAndNeedsNoSync) {
  TempDir tmp;
  auto log = open_log(tmp.path());
  ASSERT_TRUE(log->flush().ok());  // the fresh segment's header and directory entry
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) {
      auto seq = log->append(bytes("m"));
      ASSERT_TRUE(seq.ok());
      ASSERT_TRUE(log->mark_delivered(*seq).ok());
      ASSERT_TRUE(log->ack(*seq).ok());
    }
    auto files = log->flush();
    ASSERT_TRUE(files.ok());
    EXPECT_TRUE(files->empty()) << round;
  }
  EXPECT_EQ(log->elided_messages(), 300u);
  EXPECT_EQ(log->disk_bytes(), kHeader);
  log.reset();
  // Numbering may restart below the elided sequence numbers: nothing on disk names them.
  EXPECT_TRUE(reopen(tmp.path()).empty());
}

TEST(QueueLogBuffer, ElisionKeepsOrderAcrossSegmentsAndRestart) {
  TempDir tmp;
  QueueLogOptions opt;
  opt.segment_bytes = 4096;
  std::vector<std::string> expect;
  {
    auto log = open_log(tmp.path(), opt);
    for (int i = 0; i < 1000; ++i) {
      std::string b = std::to_string(i) + std::string(50, 'x');
      auto seq = log->append(bytes(b));
      ASSERT_TRUE(seq.ok());
      // Every third message is acked while buffered, every fifth flushes the buffer.
      if (i % 3 == 0) {
        ASSERT_TRUE(log->ack(*seq).ok());
      } else {
        expect.push_back(b);
      }
      if (i % 5 == 0) {
        ASSERT_TRUE(log->flush().ok());
      }
    }
    ASSERT_TRUE(log->sync().ok());
    EXPECT_EQ(log->live_messages(), expect.size());
    uint64_t n = 0;
    log->for_each_live([&](uint64_t seq, bool) {
      auto r = log->read(seq);
      ASSERT_TRUE(r.ok()) << r.error().text;
      EXPECT_EQ(std::string(r->begin(), r->end()), expect[n++]);
    });
    EXPECT_EQ(n, expect.size());
  }
  auto seen = reopen(tmp.path(), nullptr, opt);
  ASSERT_EQ(seen.size(), expect.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].body, expect[i]) << i;
  }
}

}  // namespace
}  // namespace pulse::store
