// Fault injection on QueueLog files: torn writes at every offset, flipped bytes, damaged
// headers, zero-filled tails. Recovery must never crash, must keep every intact record, and
// must report what it dropped.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/queue_log.h"
#include "store/record.h"
#include "test_util.h"

namespace pulse::store {
namespace {

using testing::bytes;
using testing::slurp;
using testing::spit;
using testing::TempDir;

constexpr size_t kHeader = 24;  // segment header

// Writes n records "r<i>" (i from 1), optional acks, and returns the segment path.
std::string build(const std::string& dir, int n, std::vector<uint64_t> acks = {}) {
  std::filesystem::remove_all(dir);
  auto log = QueueLog::open(dir, {});
  EXPECT_TRUE(log.ok());
  for (int i = 1; i <= n; ++i) EXPECT_TRUE((*log)->append(bytes("r" + std::to_string(i))).ok());
  // Written first: acks of still-buffered messages would drop their records instead.
  EXPECT_TRUE((*log)->flush().ok());
  for (auto a : acks) EXPECT_TRUE((*log)->ack(a).ok());
  EXPECT_TRUE((*log)->sync().ok());
  return dir + "/00000001.seg";
}

struct Outcome {
  std::vector<uint64_t> seqs;
  std::vector<std::string> bodies;
  RecoveryReport report;
};

Outcome recover(const std::string& dir) {
  Outcome out;
  auto log = QueueLog::open(dir, {}, [&](const RecoveredMessage& m) {
    out.seqs.push_back(m.seq);
    out.bodies.emplace_back(m.payload.begin(), m.payload.end());
  });
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().text);
  if (log.ok()) out.report = (*log)->recovery_report();
  return out;
}

size_t record_size(int i) {
  return kRecordHeaderBytes + ("r" + std::to_string(i)).size();
}

TEST(QueueLogFaults, TornTailAtEveryOffsetOfTheLastRecord) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  const int n = 20;
  std::string seg = build(dir, n);
  auto full = slurp(seg);
  size_t last_start = full.size() - record_size(n);
  for (size_t cut = last_start; cut < full.size(); ++cut) {
    spit(seg, std::vector<uint8_t>(full.begin(), full.begin() + cut));
    auto out = recover(dir);
    ASSERT_EQ(out.seqs.size(), size_t(n - 1)) << "cut at " << cut;
    EXPECT_EQ(out.bodies.back(), "r" + std::to_string(n - 1));
    EXPECT_EQ(out.report.truncated_bytes, cut - last_start);
    EXPECT_EQ(out.report.corrupt_records, 0u);
    EXPECT_EQ(std::filesystem::file_size(seg), last_start);
    // The log continues cleanly after the truncation.
    {
      auto log = QueueLog::open(dir, {});
      ASSERT_TRUE(log.ok());
      EXPECT_EQ(*(*log)->append(bytes("after")), uint64_t(n));
      ASSERT_TRUE((*log)->sync().ok());
    }
    auto again = recover(dir);
    ASSERT_EQ(again.seqs.size(), size_t(n));
    EXPECT_EQ(again.bodies.back(), "after");
    EXPECT_TRUE(again.report.problems.empty());
  }
}

TEST(QueueLogFaults, TornAckLogTailAtEveryOffset) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  build(dir, 10, {2, 4, 6});
  std::string acks = dir + "/acks.log";
  auto full = slurp(acks);
  ASSERT_EQ(full.size(), 3 * kRecordHeaderBytes);
  for (size_t cut = 2 * kRecordHeaderBytes; cut < full.size(); ++cut) {
    spit(acks, std::vector<uint8_t>(full.begin(), full.begin() + cut));
    auto out = recover(dir);
    // The torn ack of 6 is lost: 6 comes back (at-least-once), 2 and 4 stay acked.
    EXPECT_EQ(out.seqs, (std::vector<uint64_t>{1, 3, 5, 6, 7, 8, 9, 10})) << cut;
    EXPECT_EQ(out.report.truncated_bytes, cut - 2 * kRecordHeaderBytes);
  }
}

TEST(QueueLogFaults, FlippedBytesInTheMiddleAreSkippedAndReported) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  const int n = 20;
  std::string seg = build(dir, n);
  auto good = slurp(seg);
  size_t rec5 = kHeader;
  for (int i = 1; i < 5; ++i) rec5 += record_size(i);
  // Every byte of record 5 (length, crc, type, seq, payload) in turn.
  for (size_t k = 0; k < record_size(5); ++k) {
    auto bad = good;
    bad[rec5 + k] ^= 0x5A;
    spit(seg, bad);
    auto out = recover(dir);
    ASSERT_EQ(out.seqs.size(), size_t(n - 1)) << "byte " << k;
    EXPECT_EQ(std::count(out.seqs.begin(), out.seqs.end(), 5u), 0);
    EXPECT_EQ(out.bodies[4], "r6");
    EXPECT_EQ(out.report.corrupt_records, 1u);
    EXPECT_EQ(out.report.truncated_bytes, 0u);
    ASSERT_EQ(out.report.problems.size(), 1u);
    EXPECT_NE(out.report.problems[0].find("00000001.seg"), std::string::npos);
  }
  // The skipped record is settled: appends continue after the highest sequence.
  auto log = QueueLog::open(dir, {});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*(*log)->append(bytes("x")), uint64_t(n + 1));
  EXPECT_FALSE((*log)->ack(5).ok());
}

TEST(QueueLogFaults, DamagedLastRecordIsATornTail) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  std::string seg = build(dir, 5);
  auto data = slurp(seg);
  data.back() ^= 0xFF;
  spit(seg, data);
  auto out = recover(dir);
  EXPECT_EQ(out.seqs.size(), 4u);
  EXPECT_EQ(out.report.truncated_bytes, record_size(5));
}

TEST(QueueLogFaults, ZeroFilledTailIsTruncated) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  std::string seg = build(dir, 5);
  auto data = slurp(seg);
  data.resize(data.size() + 4096, 0);  // what a crash after a size update without data leaves
  spit(seg, data);
  auto out = recover(dir);
  EXPECT_EQ(out.seqs.size(), 5u);
  EXPECT_EQ(out.report.truncated_bytes, 4096u);
}

TEST(QueueLogFaults, FlippedAckRecordBringsTheMessageBack) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  build(dir, 6, {1, 2, 3});
  std::string acks = dir + "/acks.log";
  auto data = slurp(acks);
  data[kRecordHeaderBytes + 12] ^= 1;  // inside the seq of the second ack
  spit(acks, data);
  auto out = recover(dir);
  EXPECT_EQ(out.seqs, (std::vector<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(out.report.corrupt_records, 1u);
}

TEST(QueueLogFaults, DamagedSegmentHeaderKeepsRecords) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  std::string seg = build(dir, 8);
  auto data = slurp(seg);
  data[3] ^= 0x20;  // magic
  spit(seg, data);
  auto out = recover(dir);
  EXPECT_EQ(out.seqs.size(), 8u);
  EXPECT_FALSE(out.report.problems.empty());
}

TEST(QueueLogFaults, SegmentTornAtCreationIsReinitialised) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  {
    QueueLogOptions o;
    o.segment_bytes = 4096;
    auto log = QueueLog::open(dir, o);
    ASSERT_TRUE(log.ok());
    std::vector<uint8_t> body(1000, 'a');
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*log)->append(body).ok());
    ASSERT_TRUE((*log)->sync().ok());
  }
  // A crash between creating segment 2 and writing its header.
  spit(dir + "/00000002.seg", {0x50, 0x4C, 0x53});
  auto out = recover(dir);
  EXPECT_EQ(out.seqs.size(), 3u);
  auto log = QueueLog::open(dir, {});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*(*log)->append(bytes("x")), 4u);
  ASSERT_TRUE((*log)->sync().ok());
  log->reset();
  EXPECT_EQ(recover(dir).seqs.size(), 4u);
}

TEST(QueueLogFaults, GarbageFilesNeverCrashRecovery) {
  TempDir tmp;
  std::string dir = tmp.sub("q");
  std::string seg = build(dir, 30, {1, 2});
  auto data = slurp(seg);
  uint32_t state = 12345;
  for (int round = 0; round < 50; ++round) {
    auto bad = data;
    for (int k = 0; k < 8; ++k) {
      state = state * 1103515245u + 12345u;
      bad[state % bad.size()] ^= static_cast<uint8_t>(state >> 24) | 1;
    }
    spit(seg, bad);
    auto out = recover(dir);
    EXPECT_LE(out.seqs.size(), 28u);
    for (size_t i = 1; i < out.seqs.size(); ++i) EXPECT_LT(out.seqs[i - 1], out.seqs[i]);
    for (size_t i = 0; i < out.seqs.size(); ++i) {
      EXPECT_EQ(out.bodies[i], "r" + std::to_string(out.seqs[i]));  // never a corrupt body
    }
  }
}

}  // namespace
}  // namespace pulse::store
