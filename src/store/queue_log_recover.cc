// QueueLog::open and recovery: one sequential read per file, checksums verified on every
// record, acks applied from a sorted list so no per-message hash lookups are needed.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "base/log.h"
#include "store/queue_log.h"
#include "store/queue_log_internal.h"
#include "store/record.h"

namespace pulse::store {
namespace {

bool parse_segment_name(const std::string& name, uint32_t& id) {
  if (name.size() != 12 || name.substr(8) != ".seg") return false;
  for (int i = 0; i < 8; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  id = static_cast<uint32_t>(std::strtoul(name.substr(0, 8).c_str(), nullptr, 10));
  return id != 0;
}

void problem(RecoveryReport& report, std::string text) {
  spdlog::warn("store recovery: {}", text);
  report.problems.push_back(std::move(text));
}

// Parses `buf` from `off`, handing valid records to `on_record` and skipping damage. Returns
// the length of the intact prefix: anything after it holds no valid record (a torn or
// unreadable tail) and is to be truncated.
template <typename Fn>
size_t scan_records(std::span<const uint8_t> buf, size_t off, bool messages, uint32_t max_length,
                    const std::string& path, RecoveryReport& report, Fn&& on_record) {
  uint64_t last_seq = 0;
  while (off < buf.size()) {
    ParsedRecord r = parse_record(buf, off, max_length);
    if (r.status == ParsedRecord::Status::kOk) {
      if (on_record(r, off)) {
        if (messages) last_seq = r.seq;
        off += r.size;
        continue;
      }
      report.corrupt_records++;
      problem(report, path + ": unexpected record (type " + std::to_string(int(r.type)) + ", seq " +
                          std::to_string(r.seq) + ") at offset " + std::to_string(off) +
                          " skipped");
      off += r.size;
      continue;
    }
    size_t next = find_next_record(buf, off + 1, messages ? last_seq : 0, max_length, messages);
    if (next >= buf.size()) return off;  // nothing valid follows: a tail to cut
    report.corrupt_records++;
    problem(report, path + ": damaged record (" +
                        (r.status == ParsedRecord::Status::kBadChecksum ? "checksum mismatch"
                                                                        : "bad length") +
                        ") at offset " + std::to_string(off) + ", skipped " +
                        std::to_string(next - off) + " bytes");
    off = next;
  }
  return off;
}

Status truncate_file(const std::string& path, uint64_t size) {
  auto f = File::open(path, O_RDWR);
  if (!f) return std::move(f).error();
  if (auto s = (*f)->truncate(size); !s) return s;
  return (*f)->sync();
}

}  // namespace

Result<std::unique_ptr<QueueLog>> QueueLog::open(const std::string& dir, QueueLogOptions options,
                                                 const RecoverFn& on_message) {
  if (auto s = make_dirs(dir); !s) return std::move(s).error();
  std::unique_ptr<QueueLog> log(new QueueLog(dir, options));
  auto d = File::open_dir(dir);
  if (!d) return std::move(d).error();
  log->dir_file_ = std::move(*d);
  if (auto s = log->recover(on_message); !s) return std::move(s).error();
  return log;
}

Status QueueLog::load_ack_log(std::vector<uint64_t>& acked, std::vector<uint64_t>& delivered) {
  std::string path = dir_ + "/" + kAckLogName;
  ::unlink((path + ".tmp").c_str());  // an interrupted compaction; the old log is intact
  std::vector<uint8_t> buf;
  if (exists(path)) {
    if (auto s = read_file(path, buf); !s) return s;
  }
  size_t good = scan_records(buf, 0, false, opt_.max_record_bytes, path, report_,
                             [&](const ParsedRecord& r, size_t) {
                               if (r.type == RecordType::kAck) {
                                 acked.push_back(r.seq);
                               } else if (r.type == RecordType::kDelivered) {
                                 delivered.push_back(r.seq);
                               } else {
                                 return false;
                               }
                               ack_records_++;
                               return true;
                             });
  if (good < buf.size()) {
    problem(report_,
            path + ": torn tail of " + std::to_string(buf.size() - good) + " bytes truncated");
    report_.truncated_bytes += buf.size() - good;
    if (auto s = truncate_file(path, good); !s) return s;
  }
  ack_bytes_ = good;
  if (!exists(path)) dir_dirty_ = true;  // its directory entry must reach the disk too
  auto f = File::open(path, O_WRONLY | O_CREAT | O_APPEND);
  if (!f) return std::move(f).error();
  ack_file_ = std::move(*f);
  std::sort(acked.begin(), acked.end());
  std::sort(delivered.begin(), delivered.end());
  return ok_status();
}

Status QueueLog::recover_segment(Segment& seg, bool last, std::vector<uint8_t>& buf,
                                 const RecoverFn& on_message,
                                 const std::vector<uint64_t>& acked_sorted,
                                 const std::vector<uint64_t>& delivered_sorted) {
  std::string path = segment_path(seg.id);
  if (auto s = read_file(path, buf); !s) return s;
  size_t start = kSegmentHeaderBytes;
  bool header_ok = decode_segment_header(buf.data(), buf.size(), seg.first_seq);
  if (!header_ok) {
    // A torn creation (crash right after open) or damage: take numbering from the records.
    start = find_next_record(buf, 0, 0, opt_.max_record_bytes, true);
    if (start < buf.size()) {
      seg.first_seq = get_u64(buf.data() + start + 9);
      problem(report_, path + ": damaged segment header, records kept");
    } else {
      seg.first_seq = next_seq_;
      start = buf.size();
    }
  }
  size_t good =
      scan_records(buf, start, true, opt_.max_record_bytes, path, report_,
                   [&](const ParsedRecord& r, size_t off) {
                     if (r.type != RecordType::kMessage || r.seq < seg.end_seq()) return false;
                     while (seg.end_seq() < r.seq) {  // a skipped damaged record leaves a hole
                       seg.offsets.push_back(kNoRecord);
                       seg.state.push_back(kStateAcked);
                     }
                     seg.offsets.push_back(static_cast<uint32_t>(off));
                     seg.state.push_back(0);
                     return true;
                   });
  if (!header_ok && seg.offsets.empty()) {
    if (buf.size() > 0 && !last) problem(report_, path + ": unreadable segment removed");
    // Nothing in it: rewrite it as an empty segment (last) or drop it.
    good = 0;
  }
  if (good < buf.size()) {
    if (seg.offsets.empty() && header_ok) good = std::max(good, kSegmentHeaderBytes);
    if (good < buf.size() && good != 0) {
      problem(report_, path + (last ? ": torn tail of " : ": unreadable tail of ") +
                           std::to_string(buf.size() - good) + " bytes truncated");
      report_.truncated_bytes += buf.size() - good;
    }
    if (auto s = truncate_file(path, good); !s) return s;
    buf.resize(good);
  }
  seg.size = seg.written = buf.size();

  // Apply the ack log: both lists are sorted, segments are visited in sequence order.
  auto apply = [&](const std::vector<uint64_t>& seqs, uint8_t bit) {
    auto it = std::lower_bound(seqs.begin(), seqs.end(), seg.first_seq);
    for (; it != seqs.end() && *it < seg.end_seq(); ++it) {
      size_t i = *it - seg.first_seq;
      if (seg.offsets[i] == kNoRecord || (seg.state[i] & bit)) continue;
      seg.state[i] |= bit;
      seg.ack_records++;
    }
  };
  apply(acked_sorted, kStateAcked);
  apply(delivered_sorted, kStateDelivered);

  for (size_t i = 0; i < seg.offsets.size(); ++i) {
    if (seg.offsets[i] == kNoRecord) continue;
    if (seg.state[i] & kStateAcked) {
      report_.acked_messages++;
      continue;
    }
    seg.live++;
    const uint8_t* rec = buf.data() + seg.offsets[i];
    uint32_t plen = get_u32(rec) - uint32_t(kRecordMinLength);
    bool delivered = seg.state[i] & kStateDelivered;
    report_.live_bytes += plen;
    report_.delivered_messages += delivered;
    if (on_message) {
      on_message(RecoveredMessage{seg.first_seq + i, delivered,
                                  std::span<const uint8_t>(rec + kRecordHeaderBytes, plen)});
    }
  }
  live_ += seg.live;
  next_seq_ = std::max(next_seq_, seg.end_seq());
  return ok_status();
}

Status QueueLog::recover(const RecoverFn& on_message) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<uint32_t> ids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    uint32_t id;
    if (parse_segment_name(e.path().filename().string(), id)) ids.push_back(id);
  }
  if (ec) return io_error("list", dir_, ec.value());
  std::sort(ids.begin(), ids.end());

  std::vector<uint64_t> acked, delivered;
  if (auto s = load_ack_log(acked, delivered); !s) return s;
  // Acks can outlive their segments (purge, deletion before compaction): numbering continues
  // past every sequence number ever seen so a stale ack never matches a new message.
  if (!acked.empty()) next_seq_ = std::max(next_seq_, acked.back() + 1);
  if (!delivered.empty()) next_seq_ = std::max(next_seq_, delivered.back() + 1);

  std::vector<uint8_t> buf;
  for (size_t k = 0; k < ids.size(); ++k) {
    auto seg = std::make_unique<Segment>();
    seg->id = ids[k];
    bool last = k + 1 == ids.size();
    // Numbering for a header-less empty segment continues after the previous one.
    if (!segments_.empty()) next_seq_ = std::max(next_seq_, segments_.back()->end_seq());
    if (auto s = recover_segment(*seg, last, buf, on_message, acked, delivered); !s) return s;
    next_segment_id_ = ids[k] + 1;
    if (seg->size == 0) {
      if (!last) {
        ::unlink(segment_path(seg->id).c_str());
        dir_dirty_ = true;
        continue;
      }
      // Last segment torn at creation: give it back its header.
      next_seq_ = std::max(next_seq_, seg->first_seq);
      seg->first_seq = next_seq_;
      auto f = File::open(segment_path(seg->id), O_RDWR | O_APPEND);
      if (!f) return std::move(f).error();
      uint8_t header[kSegmentHeaderBytes];
      encode_segment_header(header, seg->first_seq);
      if (auto s = (*f)->write_all(header); !s) return s;
      if (auto s = (*f)->sync(); !s) return s;
      seg->size = seg->written = kSegmentHeaderBytes;
    }
    segments_.push_back(std::move(seg));
  }
  report_.segments = segments_.size();
  report_.live_messages = live_;

  if (segments_.empty()) {
    if (auto s = new_segment(); !s) return s;
  } else {
    auto f = File::open(segment_path(segments_.back()->id), O_RDWR | O_APPEND);
    if (!f) return std::move(f).error();
    segments_.back()->file = std::move(*f);
  }
  uint64_t referenced = 0;
  for (const auto& seg : segments_) referenced += seg->ack_records;
  obsolete_ack_records_ = ack_records_ - std::min(ack_records_, referenced);
  // Segments fully acked before the crash but not yet deleted go now.
  for (size_t k = 0; k + 1 < segments_.size();) {
    if (segments_[k]->live == 0) {
      if (auto s = maybe_release(*segments_[k]); !s) return s;
    } else {
      ++k;
    }
  }
  if (ack_bytes_ >= opt_.ack_compact_min_bytes && obsolete_ack_records_ * 2 > ack_records_) {
    if (auto s = compact_ack_log(); !s) return s;
  }
  report_.next_seq = next_seq_;
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ok_status();
}

}  // namespace pulse::store
