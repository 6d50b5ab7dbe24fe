// QueueLog behaviour without damage: order, delivered flags, segment deletion, ack-log
// compaction, purge, lazy reads.
#include "store/queue_log.h"
#include "store/record.h"
#include "store/storage_thread.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace pulse::store {
namespace {

using testing::bytes;
using testing::TempDir;

struct Seen {
  uint64_t seq;
  bool delivered;
  std::string body;
};

std::unique_ptr<QueueLog> open_log(const std::string& dir, std::vector<Seen>* seen = nullptr,
                                   QueueLogOptions opt = {}) {
  auto log = QueueLog::open(dir, opt, [&](const RecoveredMessage& m) {
    if (seen)
      seen->push_back({m.seq, m.delivered, std::string(m.payload.begin(), m.payload.end())});
  });
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().text);
  return log.ok() ? std::move(*log) : nullptr;
}

QueueLogOptions small_segments() {
  QueueLogOptions o;
  o.segment_bytes = 4096;
  o.ack_compact_min_bytes = 512;
  return o;
}

TEST(QueueLog, AppendsRecoverInOrderAndNumberingContinues) {
  TempDir tmp;
  {
    auto log = open_log(tmp.path());
    for (int i = 0; i < 100; ++i) {
      auto seq = log->append(bytes("m" + std::to_string(i)));
      ASSERT_TRUE(seq.ok());
      EXPECT_EQ(*seq, uint64_t(i + 1));
    }
    ASSERT_TRUE(log->sync().ok());
  }
  std::vector<Seen> seen;
  auto log = open_log(tmp.path(), &seen);
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(seen[i].seq, uint64_t(i + 1));
    EXPECT_EQ(seen[i].body, "m" + std::to_string(i));
    EXPECT_FALSE(seen[i].delivered);
  }
  EXPECT_EQ(log->recovery_report().live_messages, 100u);
  EXPECT_TRUE(log->recovery_report().problems.empty());
  EXPECT_EQ(*log->append(bytes("next")), 101u);
}

TEST(QueueLog, DeliveredAndAckedSurviveRestart) {
  TempDir tmp;
  {
    auto log = open_log(tmp.path());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->append(bytes("x")).ok());
    ASSERT_TRUE(log->flush().ok());  // on disk before the marks (see AckedWhileBuffered...)
    ASSERT_TRUE(log->mark_delivered(2).ok());
    ASSERT_TRUE(log->mark_delivered(2).ok());  // repeat: no second record
    ASSERT_TRUE(log->mark_delivered(3).ok());
    ASSERT_TRUE(log->ack(3).ok());
    ASSERT_TRUE(log->ack(5).ok());
    EXPECT_EQ(log->live_messages(), 8u);
    EXPECT_EQ(log->ack_log_bytes(), 4u * 17);  // delivered 2, delivered 3, ack 3, ack 5
    ASSERT_TRUE(log->sync().ok());
  }
  std::vector<Seen> seen;
  auto log = open_log(tmp.path(), &seen);
  std::vector<uint64_t> seqs;
  for (auto& s : seen) {
    seqs.push_back(s.seq);
    EXPECT_EQ(s.delivered, s.seq == 2) << s.seq;
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 4, 6, 7, 8, 9, 10}));
  EXPECT_EQ(log->recovery_report().delivered_messages, 1u);
  EXPECT_EQ(log->recovery_report().acked_messages, 2u);
}

TEST(QueueLog, AckAndReadErrorsForUnknownSequence) {
  TempDir tmp;
  auto log = open_log(tmp.path());
  ASSERT_TRUE(log->append(bytes("a")).ok());
  EXPECT_FALSE(log->ack(2).ok());
  ASSERT_TRUE(log->ack(1).ok());
  EXPECT_FALSE(log->ack(1).ok());
  EXPECT_FALSE(log->read(1).ok());
  EXPECT_FALSE(log->mark_delivered(99).ok());
}

TEST(QueueLog, ReadsFromWriteBufferAndDiskAndLazyRecovery) {
  TempDir tmp;
  {
    auto log = open_log(tmp.path(), nullptr, small_segments());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(log->append(bytes("body" + std::to_string(i))).ok());
    auto buffered = log->read(300);
    ASSERT_TRUE(buffered.ok());
    EXPECT_EQ(std::string(buffered->begin(), buffered->end()), "body299");
    ASSERT_TRUE(log->mark_delivered(7).ok());
    ASSERT_TRUE(log->sync().ok());
  }
  auto log = QueueLog::open(tmp.path(), small_segments());  // no callback: index only
  ASSERT_TRUE(log.ok());
  uint64_t count = 0;
  (*log)->for_each_live([&](uint64_t seq, bool delivered) {
    ++count;
    EXPECT_EQ(delivered, seq == 7);
  });
  EXPECT_EQ(count, 300u);
  EXPECT_GE((*log)->segment_count(), 2u);
  for (uint64_t seq : {1u, 150u, 300u}) {
    auto body = (*log)->read(seq);
    ASSERT_TRUE(body.ok()) << body.error().text;
    EXPECT_EQ(std::string(body->begin(), body->end()), "body" + std::to_string(seq - 1));
  }
}

TEST(QueueLog, SegmentDeletedOnceAllItsMessagesAreAcked) {
  TempDir tmp;
  auto log = open_log(tmp.path(), nullptr, small_segments());
  std::vector<uint8_t> body(100, 'b');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(log->append(body).ok());
  ASSERT_TRUE(log->sync().ok());
  size_t segments = log->segment_count();
  ASSERT_GE(segments, 5u);
  // 4096-byte segments hold 34 records of 117 bytes after the 24-byte header.
  for (uint64_t s = 1; s <= 33; ++s) ASSERT_TRUE(log->ack(s).ok());
  EXPECT_EQ(log->segment_count(), segments);
  ASSERT_TRUE(log->ack(34).ok());
  EXPECT_EQ(log->segment_count(), segments - 1);
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("00000001.seg")));
  // Acking out of order: the last segment's messages first, then the rest.
  for (uint64_t s = 200; s >= 35; --s) ASSERT_TRUE(log->ack(s).ok());
  EXPECT_EQ(log->live_messages(), 0u);
  ASSERT_TRUE(log->sync().ok());
  EXPECT_LT(testing::dir_bytes(tmp.path()), 4096u);  // near zero after the drain
  EXPECT_EQ(log->segment_count(), 1u);
  log.reset();
  std::vector<Seen> seen;
  log = open_log(tmp.path(), &seen, small_segments());
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(*log->append(body), 201u);  // numbering never restarts
}

TEST(QueueLog, AckLogIsCompactedWhenSegmentsGo) {
  TempDir tmp;
  auto opt = small_segments();
  {
    auto log = open_log(tmp.path(), nullptr, opt);
    std::vector<uint8_t> body(50, 'c');
    uint64_t next_ack = 1;
    // Steady publish/deliver/ack with a backlog of ~100: acks.log must stay bounded.
    for (int i = 0; i < 5000; ++i) {
      ASSERT_TRUE(log->append(body).ok());
      if (i >= 100) {
        ASSERT_TRUE(log->mark_delivered(next_ack).ok());
        ASSERT_TRUE(log->ack(next_ack++).ok());
      }
      EXPECT_LT(log->ack_log_bytes(), 8192u) << i;
    }
    ASSERT_TRUE(log->mark_delivered(next_ack).ok());  // delivered, not acked
    ASSERT_TRUE(log->sync().ok());
    EXPECT_EQ(log->live_messages(), 100u);
  }
  std::vector<Seen> seen;
  auto log = open_log(tmp.path(), &seen, opt);
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen.front().seq, 4901u);
  EXPECT_TRUE(seen.front().delivered);
  EXPECT_FALSE(seen[1].delivered);
  EXPECT_EQ(seen.back().seq, 5000u);
  EXPECT_TRUE(log->recovery_report().problems.empty());
}

TEST(QueueLog, PurgeFreesDiskAndKeepsNumbering) {
  TempDir tmp;
  auto log = open_log(tmp.path(), nullptr, small_segments());
  std::vector<uint8_t> body(1000, 'p');
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(log->append(body).ok());
  ASSERT_TRUE(log->mark_delivered(1).ok());
  ASSERT_TRUE(log->sync().ok());
  EXPECT_GT(testing::dir_bytes(tmp.path()), 500u * 1000);
  ASSERT_TRUE(log->purge().ok());
  EXPECT_EQ(log->live_messages(), 0u);
  EXPECT_LT(testing::dir_bytes(tmp.path()), 100u);
  EXPECT_LT(log->disk_bytes(), 100u);
  EXPECT_EQ(*log->append(body), 501u);
  ASSERT_TRUE(log->sync().ok());
  log.reset();
  std::vector<Seen> seen;
  log = open_log(tmp.path(), &seen, small_segments());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].seq, 501u);
}

TEST(QueueLog, PurgedEmptyLogKeepsNumberingAcrossRestart) {
  TempDir tmp;
  {
    auto log = open_log(tmp.path());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->append(bytes("z")).ok());
    ASSERT_TRUE(log->purge().ok());
  }
  auto log = open_log(tmp.path());
  EXPECT_EQ(log->next_seq(), 6u);
}

TEST(QueueLog, DestroyRemovesTheDirectory) {
  TempDir tmp;
  std::string dir = tmp.sub("q1");
  auto log = open_log(dir);
  ASSERT_TRUE(log->append(bytes("d")).ok());
  ASSERT_TRUE(log->destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(log->append(bytes("late")).ok());
}

TEST(QueueLog, FlushListsDirtyFilesOnce) {
  TempDir tmp;
  auto log = open_log(tmp.path());
  auto first = log->flush();  // fresh: segment header + directory entries
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->empty());
  auto none = log->flush();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(log->append(bytes("a")).ok());
  ASSERT_TRUE(log->append(bytes("b")).ok());
  auto one = log->flush();
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  ASSERT_TRUE(log->mark_delivered(2).ok());
  ASSERT_TRUE(log->ack(1).ok());
  // Delivery marks and acks are hints: nothing a confirm has to wait for.
  auto ack_only = log->flush();
  ASSERT_TRUE(ack_only.ok());
  EXPECT_TRUE(ack_only->empty());
  EXPECT_EQ(log->ack_log_bytes(), 2u * kRecordHeaderBytes);
}

TEST(QueueLog, FullyAckedSegmentLeftByACrashIsDeletedAtOpen) {
  TempDir tmp;
  std::vector<uint8_t> body(100, 'b');
  std::vector<uint8_t> saved;
  // No compaction: it fsyncs the directory, which makes the unlink durable, so a segment can
  // only reappear when the acks were not compacted yet.
  auto opt = small_segments();
  opt.ack_compact_min_bytes = 1u << 20;
  {
    auto log = open_log(tmp.path(), nullptr, opt);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(log->append(body).ok());
    ASSERT_TRUE(log->sync().ok());
    saved = testing::slurp(tmp.sub("00000001.seg"));
    for (uint64_t s = 1; s <= 34; ++s) ASSERT_TRUE(log->ack(s).ok());
    ASSERT_TRUE(log->sync().ok());
  }
  // The crash undid the unlink but the acks made it to disk.
  testing::spit(tmp.sub("00000001.seg"), saved);
  std::vector<Seen> seen;
  auto log = open_log(tmp.path(), &seen, opt);
  ASSERT_EQ(seen.size(), 66u);
  EXPECT_EQ(seen.front().seq, 35u);
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("00000001.seg")));
  EXPECT_EQ(log->recovery_report().acked_messages, 34u);
}

TEST(QueueLog, StorageThreadMakesFlushedAppendsDurable) {
  TempDir tmp;
  auto log = open_log(tmp.path());
  int confirmed = 0;
  {
    StorageThread st([](std::function<void()> fn) { fn(); });
    for (int batch = 0; batch < 10; ++batch) {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->append(bytes("m")).ok());
      auto files = log->flush();
      ASSERT_TRUE(files.ok());
      st.submit({*files, [&](const Status& s) { confirmed += s.ok() ? 50 : 0; }});
    }
    st.drain();
  }
  EXPECT_EQ(confirmed, 500);
}

}  // namespace
}  // namespace pulse::store
