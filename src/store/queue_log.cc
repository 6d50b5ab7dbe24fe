#include "store/queue_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "store/crc32c.h"
#include "store/queue_log_internal.h"
#include "store/record.h"

namespace pulse::store {
namespace {
// Bytes read at once when a read misses the cache: 128 records of 1 KiB per pread.
constexpr uint64_t kReadAheadBytes = 128u << 10;
}  // namespace

void encode_segment_header(uint8_t* out, uint64_t first_seq) {
  std::memcpy(out, kSegmentMagic, 8);
  put_u64(out + 8, first_seq);
  put_u32(out + 16, crc32c(std::span<const uint8_t>(out, 16)));
  put_u32(out + 20, 0);
}

bool decode_segment_header(const uint8_t* in, size_t n, uint64_t& first_seq) {
  if (n < kSegmentHeaderBytes || std::memcmp(in, kSegmentMagic, 8) != 0) return false;
  if (get_u32(in + 16) != crc32c(std::span<const uint8_t>(in, 16))) return false;
  first_seq = get_u64(in + 8);
  return first_seq != 0;
}

QueueLog::QueueLog(std::string dir, QueueLogOptions options) : dir_(std::move(dir)), opt_(options) {
  // Offsets are 32-bit: keep a segment (plus one oversized record) under 4 GiB.
  opt_.segment_bytes = std::clamp<uint64_t>(opt_.segment_bytes, 4096, 1u << 30);
  opt_.max_record_bytes = std::min<uint32_t>(opt_.max_record_bytes, 1u << 30);
}

QueueLog::~QueueLog() = default;

std::string QueueLog::segment_path(uint32_t id) const {
  char name[32];
  std::snprintf(name, sizeof name, "/%08u.seg", id);
  return dir_ + name;
}

Status QueueLog::check_usable() const {
  if (failed_) return store_error("queue log " + dir_ + " is unusable after an I/O error");
  return ok_status();
}

QueueLog::Segment* QueueLog::find_segment(uint64_t seq) {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                             [](uint64_t s, const auto& seg) { return s < seg->first_seq; });
  if (it == segments_.begin()) return nullptr;
  Segment* seg = std::prev(it)->get();
  return seg->contains(seq) ? seg : nullptr;
}

const QueueLog::Segment* QueueLog::find_segment(uint64_t seq) const {
  return const_cast<QueueLog*>(this)->find_segment(seq);
}

bool QueueLog::delivered(uint64_t seq) const {
  const Segment* seg = find_segment(seq);
  return seg && (seg->state[seq - seg->first_seq] & kStateDelivered);
}

Status QueueLog::new_segment() {
  auto seg = std::make_unique<Segment>();
  seg->id = next_segment_id_++;
  seg->first_seq = next_seq_;
  auto f = File::open(segment_path(seg->id), O_RDWR | O_CREAT | O_EXCL | O_APPEND);
  if (!f) return std::move(f).error();
  seg->file = std::move(*f);
  uint8_t header[kSegmentHeaderBytes];
  encode_segment_header(header, seg->first_seq);
  if (auto s = seg->file->write_all(header); !s) {
    // A full disk: nothing refers to the file yet, so it goes and the log stays usable (the
    // next append tries again). Its id is not reused: ids only grow.
    if (::unlink(segment_path(seg->id).c_str()) != 0 && errno != ENOENT) failed_ = true;
    return s;
  }
  seg->size = seg->written = kSegmentHeaderBytes;
  seg->dirty = true;
  dir_dirty_ = true;  // the new directory entry must be durable before its records are
  segments_.push_back(std::move(seg));
  return ok_status();
}

void QueueLog::compact_buffer(Segment& seg) {
  // Buffered records are the suffix of the back segment from buf_first_ on, in sequence order.
  size_t dst = 0;
  for (size_t i = buf_first_; i < seg.offsets.size(); ++i) {
    const uint32_t off = seg.offsets[i];
    if (off == kNoRecord) continue;
    const size_t src = off - seg.written;
    const size_t n = 8 + size_t(get_u32(seg_buf_.data() + src));
    if (seg.state[i] & kStateAcked) {
      // Acked before it reached the file: nothing on disk will ever refer to it, so its
      // sequence number may even be reused after a crash.
      seg.offsets[i] = kNoRecord;
      ++elided_;
      continue;
    }
    if (dst != src) std::memmove(seg_buf_.data() + dst, seg_buf_.data() + src, n);
    seg.offsets[i] = static_cast<uint32_t>(seg.written + dst);
    dst += n;
    if (seg.state[i] & kStateDelivered) {
      // The delivery mark was held back with the record; it follows it now.
      add_ack_record(uint8_t(RecordType::kDelivered), seg.first_seq + i);
      seg.ack_records++;
    }
  }
  seg_buf_.resize(dst);
  seg.size = seg.written + dst;
}

Status QueueLog::write_out() {
  if (!seg_buf_.empty()) {
    Segment& seg = *segments_.back();
    compact_buffer(seg);
    if (!seg_buf_.empty()) {
      if (auto s = seg.file->write_all(seg_buf_); !s) {
        unwrite(*seg.file, seg.written);
        return s;
      }
      seg.written += seg_buf_.size();
      seg.dirty = true;
      seg_buf_.clear();
    }
  }
  if (!ack_buf_.empty()) {
    if (auto s = ack_file_->write_all(ack_buf_); !s) {
      unwrite(*ack_file_, ack_bytes_ - ack_buf_.size());
      return s;
    }
    ack_buf_.clear();
  }
  return ok_status();
}

void QueueLog::unwrite(File& f, uint64_t size) {
  // A write that failed (a full disk, most often) may have appended part of the buffer: cut it
  // off and keep the buffer, which the next flush writes again, so the log outlives the full
  // disk. The caller fails the round's confirms. Only if the cut fails too is the file's tail
  // unknown, and the log unusable.
  if (!f.truncate(size)) failed_ = true;
}

Result<uint64_t> QueueLog::append(std::span<const uint8_t> payload) {
  if (auto s = check_usable(); !s) return std::move(s).error();
  if (payload.size() > opt_.max_record_bytes - kRecordMinLength) {
    return store_error("message of " + std::to_string(payload.size()) + " bytes is too large");
  }
  uint64_t rec_size = kRecordHeaderBytes + payload.size();
  if (segments_.back()->size + rec_size > opt_.segment_bytes &&
      segments_.back()->size > kSegmentHeaderBytes) {
    if (auto s = write_out(); !s) return std::move(s).error();
    if (auto s = new_segment(); !s) return std::move(s).error();
  }
  Segment& seg = *segments_.back();
  uint64_t seq = next_seq_++;
  // Sequence numbers lost to a truncated tail leave holes; they count as settled.
  while (seg.end_seq() < seq) {
    seg.offsets.push_back(kNoRecord);
    seg.state.push_back(kStateAcked);
  }
  if (seg_buf_.empty()) buf_first_ = seg.offsets.size();
  seg.offsets.push_back(static_cast<uint32_t>(seg.size));
  seg.state.push_back(0);
  seg.size += rec_size;
  seg.live++;
  live_++;
  append_record(seg_buf_, RecordType::kMessage, seq, payload);
  // The record is appended either way: a write that fails here (a full disk) leaves it in the
  // buffer like any other not yet written, and the next flush() reports the failure for the
  // round. Failing the append would orphan a record the caller never heard of.
  if (seg_buf_.size() >= opt_.write_buffer_bytes) (void)write_out();
  return seq;
}

void QueueLog::add_ack_record(uint8_t type, uint64_t seq) {
  size_t before = ack_buf_.size();
  append_record(ack_buf_, static_cast<RecordType>(type), seq, {});
  ack_bytes_ += ack_buf_.size() - before;
  ack_records_++;
  ack_unsynced_ = true;
}

Status QueueLog::append_ack_record(uint8_t type, uint64_t seq) {
  add_ack_record(type, seq);
  if (ack_buf_.size() >= opt_.write_buffer_bytes) return write_out();
  return ok_status();
}

Status QueueLog::mark_delivered(uint64_t seq) {
  if (auto s = check_usable(); !s) return s;
  Segment* seg = find_segment(seq);
  if (!seg || seg->offsets[seq - seg->first_seq] == kNoRecord) {
    return store_error("mark_delivered: no message " + std::to_string(seq) + " in " + dir_);
  }
  const size_t i = seq - seg->first_seq;
  uint8_t& st = seg->state[i];
  if (st & (kStateDelivered | kStateAcked)) return ok_status();
  st |= kStateDelivered;
  // A buffered message gets its mark when it is written, unless it is acked first.
  if (seg->offsets[i] >= seg->written) return ok_status();
  seg->ack_records++;
  return append_ack_record(uint8_t(RecordType::kDelivered), seq);
}

Status QueueLog::ack(uint64_t seq) {
  if (auto s = check_usable(); !s) return s;
  Segment* seg = find_segment(seq);
  if (!seg || seg->offsets[seq - seg->first_seq] == kNoRecord ||
      (seg->state[seq - seg->first_seq] & kStateAcked)) {
    return store_error("ack: no live message " + std::to_string(seq) + " in " + dir_);
  }
  const size_t i = seq - seg->first_seq;
  seg->state[i] |= kStateAcked;
  seg->live--;
  live_--;
  // Still buffered: write_out() drops the record, so there is nothing to ack on disk.
  if (seg->offsets[i] < seg->written) {
    seg->ack_records++;
    if (auto s = append_ack_record(uint8_t(RecordType::kAck), seq); !s) return s;
  }
  return maybe_release(*seg);
}

Status QueueLog::maybe_release(Segment& seg) {
  if (seg.live != 0) return ok_status();
  if (&seg == segments_.back().get()) {
    // Keep a small drained active segment (a publish/ack ping-pong must not create a file per
    // message); roll away from a big one so a drained backlog frees its disk.
    if (seg.size < opt_.segment_bytes / 4) return ok_status();
    if (auto s = write_out(); !s) return s;
    if (auto s = new_segment(); !s) return s;
  }
  if (seg.written < seg.size) {
    if (auto s = write_out(); !s) return s;
  }
  auto it = std::find_if(segments_.begin(), segments_.end(),
                         [&](const auto& p) { return p.get() == &seg; });
  if (::unlink(segment_path(seg.id).c_str()) != 0 && errno != ENOENT) {
    return io_error("unlink", segment_path(seg.id), errno);
  }
  obsolete_ack_records_ += seg.ack_records;
  // Not synced with the next round: a lost unlink brings back a fully acked segment, whose
  // messages recovery drops again (or redelivers if their acks were lost too: at-least-once).
  dir_unsynced_ = true;
  segments_.erase(it);
  if (ack_bytes_ >= opt_.ack_compact_min_bytes && obsolete_ack_records_ * 2 > ack_records_) {
    return compact_ack_log();
  }
  return ok_status();
}

Status QueueLog::compact_ack_log() {
  // The new log is rebuilt from the in-memory state, which already includes ack_buf_.
  std::vector<uint8_t> out;
  uint64_t records = 0;
  for (auto& seg : segments_) {
    seg->ack_records = 0;
    for (size_t i = 0; i < seg->offsets.size(); ++i) {
      // Buffered messages get their records from write_out() (or none, if acked by then).
      if (seg->offsets[i] == kNoRecord || seg->state[i] == 0 || seg->offsets[i] >= seg->written)
        continue;
      if (seg->state[i] & kStateDelivered) {
        append_record(out, RecordType::kDelivered, seg->first_seq + i, {});
        seg->ack_records++;
      }
      if (seg->state[i] & kStateAcked) {
        append_record(out, RecordType::kAck, seg->first_seq + i, {});
        seg->ack_records++;
      }
    }
    records += seg->ack_records;
  }
  // Synchronous on purpose: the rename must not become durable before the new content. Bounded
  // by the live segments' records, and runs only when most of the old log is obsolete.
  std::string path = dir_ + "/" + kAckLogName;
  if (auto s = write_temp_file(path, out); !s) {
    // The old log and its buffer still stand (a full disk): compaction waits for the next
    // released segment.
    return s;
  }
  ack_buf_.clear();
  if (auto s = replace_with_temp(path); !s) {
    failed_ = true;
    return s;
  }
  auto f = File::open(path, O_WRONLY | O_APPEND);
  if (!f) {
    failed_ = true;
    return std::move(f).error();
  }
  ack_file_ = std::move(*f);
  ack_bytes_ = out.size();
  ack_records_ = records;
  obsolete_ack_records_ = 0;
  ack_unsynced_ = false;
  dir_dirty_ = dir_unsynced_ = false;  // write_file_atomic synced the directory, unlinks included
  return ok_status();
}

Result<std::vector<uint8_t>> QueueLog::read(uint64_t seq) {
  if (auto s = check_usable(); !s) return std::move(s).error();
  Segment* seg = find_segment(seq);
  if (!seg || seg->offsets[seq - seg->first_seq] == kNoRecord ||
      (seg->state[seq - seg->first_seq] & kStateAcked)) {
    return store_error("read: no live message " + std::to_string(seq) + " in " + dir_);
  }
  uint64_t off = seg->offsets[seq - seg->first_seq];
  if (off >= seg->written) {  // still in the write buffer (only the active segment has one)
    std::span<const uint8_t> buf(seg_buf_);
    auto r = parse_record(buf, off - seg->written, opt_.max_record_bytes);
    return std::vector<uint8_t>(r.payload.begin(), r.payload.end());
  }
  if (!seg->file) {
    auto f = File::open(segment_path(seg->id), O_RDWR | O_APPEND);
    if (!f) return std::move(f).error();
    seg->file = std::move(*f);
  }
  auto span = cached_record(*seg, off);
  if (!span) return std::move(span).error();
  auto r = parse_record(*span, 0, opt_.max_record_bytes);
  if (r.status != ParsedRecord::Status::kOk || r.seq != seq) {
    return store_error("read: checksum mismatch for message " + std::to_string(seq) + " in " +
                       dir_);
  }
  std::vector<uint8_t> body(r.payload.begin(), r.payload.end());
  if (off + span->size() == read_cache_off_ + read_cache_.size()) {
    // Read to its end: give the memory back (a queue that stops paging in must not keep it).
    std::vector<uint8_t>().swap(read_cache_);
    read_cache_seg_ = 0;
  }
  return body;
}

Result<std::span<const uint8_t>> QueueLog::cached_record(Segment& seg, uint64_t off) {
  // Page-in reads messages in sequence order, which is file order: one pread fills the cache
  // with the records that follow, instead of two preads per record. Written bytes of a segment
  // never change and segment ids are never reused, so the cache needs no invalidation.
  auto covered = [&](uint64_t from, uint64_t n) {
    return read_cache_seg_ == seg.id && from >= read_cache_off_ &&
           from + n <= read_cache_off_ + read_cache_.size();
  };
  if (!covered(off, kRecordHeaderBytes)) {
    const uint64_t n = std::min<uint64_t>(kReadAheadBytes, seg.written - off);
    if (n < kRecordHeaderBytes) {
      return store_error("read: damaged record offset in " + segment_path(seg.id));
    }
    read_cache_seg_ = 0;
    read_cache_.resize(n);
    if (auto s = seg.file->pread_all(off, read_cache_); !s) return std::move(s).error();
    read_cache_seg_ = seg.id;
    read_cache_off_ = off;
  }
  const uint8_t* p = read_cache_.data() + (off - read_cache_off_);
  const uint32_t length = get_u32(p);
  if (length < kRecordMinLength || length > opt_.max_record_bytes) {
    return store_error("read: damaged record in " + segment_path(seg.id));
  }
  const uint64_t total = 8 + uint64_t(length);
  if (!covered(off, total)) {
    // A record larger than the read-ahead, or cut by its end: read it whole.
    if (off + total > seg.written) {
      return store_error("read: damaged record in " + segment_path(seg.id));
    }
    read_cache_seg_ = 0;
    read_cache_.resize(total);
    if (auto s = seg.file->pread_all(off, read_cache_); !s) return std::move(s).error();
    read_cache_seg_ = seg.id;
    read_cache_off_ = off;
    p = read_cache_.data();
  }
  return std::span<const uint8_t>(p, total);
}

void QueueLog::for_each_live(const std::function<void(uint64_t, bool)>& fn) const {
  for (const auto& seg : segments_) {
    if (seg->live == 0) continue;
    for (size_t i = 0; i < seg->offsets.size(); ++i) {
      if (seg->offsets[i] == kNoRecord || (seg->state[i] & kStateAcked)) continue;
      fn(seg->first_seq + i, (seg->state[i] & kStateDelivered) != 0);
    }
  }
}

Result<std::vector<std::shared_ptr<File>>> QueueLog::flush() {
  if (auto s = check_usable(); !s) return std::move(s).error();
  if (auto s = write_out(); !s) return std::move(s).error();
  std::vector<std::shared_ptr<File>> files;
  // Only writes dirty a segment and they go to the back, so dirty segments are a suffix.
  for (auto it = segments_.rbegin(); it != segments_.rend() && (*it)->dirty; ++it) {
    files.push_back((*it)->file);
    (*it)->dirty = false;
  }
  // acks.log is not listed: its records are hints (see the header), and syncing it every round
  // would double the fdatasyncs of a queue with consumers.
  if (dir_dirty_) files.push_back(dir_file_);
  dir_dirty_ = false;
  return files;
}

Status QueueLog::sync() {
  auto files = flush();
  if (!files) return std::move(files).error();
  if (ack_unsynced_) files->push_back(ack_file_);
  if (dir_unsynced_) files->push_back(dir_file_);
  for (auto& f : *files) {
    if (auto s = f->sync(); !s) {
      failed_ = true;  // after a failed fdatasync the page cache state is unknowable
      return s;
    }
  }
  ack_unsynced_ = dir_unsynced_ = false;
  return ok_status();
}

Status QueueLog::purge(bool durable) {
  if (auto s = check_usable(); !s) return s;
  seg_buf_.clear();
  ack_buf_.clear();
  std::vector<std::unique_ptr<Segment>> old;
  old.swap(segments_);
  // The fresh segment carries next_seq_ in its header, so numbering survives the purge.
  if (auto s = new_segment(); !s) return s;
  auto sync = [&](File& f) {
    if (!durable) return ok_status();  // paging-only: nothing survives a restart anyway
    auto s = f.sync();
    if (!s) failed_ = true;
    return s;
  };
  if (auto s = sync(*segments_.back()->file); !s) return s;
  if (auto s = sync(*dir_file_); !s) return s;
  for (auto& seg : old) {
    if (::unlink(segment_path(seg->id).c_str()) != 0 && errno != ENOENT) {
      failed_ = true;
      return io_error("unlink", segment_path(seg->id), errno);
    }
  }
  if (auto s = ack_file_->truncate(0); !s) return s;
  if (auto s = sync(*ack_file_); !s) return s;
  if (auto s = sync(*dir_file_); !s) return s;
  live_ = 0;
  ack_bytes_ = ack_records_ = obsolete_ack_records_ = 0;
  ack_unsynced_ = dir_unsynced_ = false;
  dir_dirty_ = false;
  return ok_status();
}

Status QueueLog::destroy() {
  failed_ = true;  // unusable from here on, whatever happens below
  segments_.clear();
  ack_file_.reset();
  dir_file_.reset();
  if (auto s = remove_all(dir_); !s) return s;
  size_t slash = dir_.find_last_of('/');
  return sync_dir(slash == std::string::npos ? "." : slash == 0 ? "/" : dir_.substr(0, slash));
}

uint64_t QueueLog::disk_bytes() const {
  uint64_t n = ack_bytes_;
  for (const auto& seg : segments_) n += seg->size;
  return n;
}

}  // namespace pulse::store
