#pragma once
// Per-queue persistent message log: append-only segment files plus an ack log, in one
// directory per queue. Owned and driven by the broker event loop (not thread-safe); the only
// cross-thread hand-off is flush(), whose returned files the StorageThread fdatasyncs.
//
// Directory layout:
//   00000001.seg, 00000002.seg ...  segments: a 24-byte header (magic, first seq, crc) then
//                                   kMessage records (record.h), rolled at segment_bytes
//   acks.log                        kDelivered / kAck records, compacted by rewrite + rename
//
// "Delivered" is an ack-log record written the first time a message is handed to a consumer;
// at recovery such unacked messages come back with delivered = true (basic.deliver's
// redelivered flag). Ack-log records are hints and are never synced for a confirm (only by
// sync() and compaction): losing a delivery mark in a crash loses a redelivered flag, losing an
// ack brings an acked message back (at-least-once), never a message is lost. Stale acks cannot
// hit new messages: recovery continues numbering past every sequence number in the ack log.
//
// Appends stay in a write buffer until flush() (or until the buffer is full). A message acked
// while buffered is never written, and neither are its delivery mark and ack: no file refers
// to its sequence number (a hole, like a damaged record's).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/file.h"

namespace pulse::store {

struct QueueLogOptions {
  uint64_t segment_bytes = 8u << 20;  // roll to a new segment past this size
  // Buffered appends are written out past this (or at flush()). Big enough to hold a group
  // commit round of a busy queue, so that messages acked within the round are never written.
  size_t write_buffer_bytes = 2u << 20;
  uint32_t max_record_bytes = 512u << 20;  // larger lengths are treated as corruption
  // Rewrite acks.log when it is larger than this and over half its records are obsolete
  // (they refer to segments already deleted).
  uint64_t ack_compact_min_bytes = 4u << 20;
};

struct RecoveredMessage {
  uint64_t seq;
  bool delivered;  // handed to a consumer before the restart: deliver with redelivered=true
  std::span<const uint8_t> payload;  // valid only during the callback
};

// What open() found. `problems` holds one human-readable line per damaged spot, for the log.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t live_messages = 0;       // unacked, handed to the callback
  uint64_t live_bytes = 0;          // payload bytes of live messages
  uint64_t delivered_messages = 0;  // live ones that carry a delivery mark
  uint64_t acked_messages = 0;      // still on disk (segment not yet deleted) but acked
  uint64_t corrupt_records = 0;     // checksum/length damage, skipped
  uint64_t truncated_bytes = 0;     // torn or unreadable tails cut off
  uint64_t next_seq = 1;
  double seconds = 0;
  std::vector<std::string> problems;
};

class QueueLog {
 public:
  using RecoverFn = std::function<void(const RecoveredMessage&)>;

  // Opens (creating if needed) the queue directory and recovers it: the callback receives every
  // live message in sequence order. An empty callback is allowed (index only; read() bodies
  // later). Damage is reported, not an error; an Error means I/O failed.
  static Result<std::unique_ptr<QueueLog>> open(const std::string& dir, QueueLogOptions options,
                                                const RecoverFn& on_message = {});
  ~QueueLog();

  const RecoveryReport& recovery_report() const { return report_; }

  // Buffers one message; returns its sequence number (dense, increasing, never reused).
  // Durable only after flush() and a sync of the returned files.
  Result<uint64_t> append(std::span<const uint8_t> payload);
  // Records the first delivery of `seq`; repeated calls write nothing.
  Status mark_delivered(uint64_t seq);
  // Settles `seq`. Deletes its segment once every message in it is acked (and it is not the
  // segment being written), and compacts acks.log when mostly obsolete.
  Status ack(uint64_t seq);
  // True when `seq` carries a delivery mark (from before a restart or mark_delivered()).
  bool delivered(uint64_t seq) const;
  // Reads a live message body back (paging, lazy recovery).
  Result<std::vector<uint8_t>> read(uint64_t seq);
  // Live messages in order, with their delivered flag (for lazy recovery without bodies).
  void for_each_live(const std::function<void(uint64_t seq, bool delivered)>& fn) const;

  // Writes out buffered records and returns the files (segments written to, and the directory
  // after a segment was created) that must be fdatasynced for everything appended so far to be
  // durable; acks.log is not among them. Hand them to the StorageThread; a file appears once
  // per flush() even if written many times.
  Result<std::vector<std::shared_ptr<File>>> flush();
  // flush() and sync inline, acks.log and unlinks included: for tests, shutdown and callers
  // without a storage thread.
  Status sync();
  // Drops every message and frees the disk; sequence numbers keep increasing. Synchronous
  // (fdatasyncs inline) when `durable`; a paging-only log needs no sync.
  Status purge(bool durable = true);
  // Deletes the whole directory (queue.delete). The object is unusable afterwards.
  Status destroy();

  uint64_t disk_bytes() const;
  uint64_t live_messages() const { return live_; }
  uint64_t next_seq() const { return next_seq_; }
  size_t segment_count() const { return segments_.size(); }
  uint64_t ack_log_bytes() const { return ack_bytes_; }
  // Messages acked while still buffered, whose records were never written.
  uint64_t elided_messages() const { return elided_; }

  struct Segment;  // defined in queue_log_internal.h

 private:
  QueueLog(std::string dir, QueueLogOptions options);
  Status recover(const RecoverFn& on_message);
  Status recover_segment(Segment& seg, bool last, std::vector<uint8_t>& buf,
                         const RecoverFn& on_message, const std::vector<uint64_t>& acked_sorted,
                         const std::vector<uint64_t>& delivered_sorted);
  Status load_ack_log(std::vector<uint64_t>& acked, std::vector<uint64_t>& delivered);
  Status new_segment();
  Status write_out();
  void unwrite(File& f, uint64_t size);
  void compact_buffer(Segment& seg);
  void add_ack_record(uint8_t type, uint64_t seq);
  Status append_ack_record(uint8_t type, uint64_t seq);
  Segment* find_segment(uint64_t seq);
  const Segment* find_segment(uint64_t seq) const;
  Status maybe_release(Segment& seg);
  Status compact_ack_log();
  Result<std::span<const uint8_t>> cached_record(Segment& seg, uint64_t off);
  Status check_usable() const;
  std::string segment_path(uint32_t id) const;

  std::string dir_;
  QueueLogOptions opt_;
  RecoveryReport report_;
  std::vector<std::unique_ptr<Segment>> segments_;  // ascending seq; back() is written
  std::shared_ptr<File> dir_file_;
  std::shared_ptr<File> ack_file_;
  std::vector<uint8_t> seg_buf_;  // appends not yet written to segments_.back()
  std::vector<uint8_t> ack_buf_;  // ack-log records not yet written
  size_t buf_first_ = 0;          // index in segments_.back() of the first record in seg_buf_
  bool ack_unsynced_ = false;     // acks.log written since the last sync()
  bool dir_dirty_ = false;        // a segment was created: its entry must be synced with its data
  bool dir_unsynced_ = false;     // segments were unlinked since the last sync()
  uint64_t next_seq_ = 1;
  uint64_t live_ = 0;
  uint64_t ack_bytes_ = 0;             // acks.log size including ack_buf_
  uint64_t ack_records_ = 0;           // records in acks.log
  uint64_t obsolete_ack_records_ = 0;  // of those, referring to deleted segments
  uint32_t next_segment_id_ = 1;
  uint64_t elided_ = 0;
  // Read-ahead of one segment's written bytes (read()); seg id 0 = empty.
  std::vector<uint8_t> read_cache_;
  uint32_t read_cache_seg_ = 0;
  uint64_t read_cache_off_ = 0;
  bool failed_ = false;  // a sync (or a write's undoing) failed: the on-disk state is unknown
};

}  // namespace pulse::store
