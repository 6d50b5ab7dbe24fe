#pragma once
// QueueLog internals shared by queue_log.cc (runtime) and queue_log_recover.cc (open/recovery).
#include <cstdint>
#include <memory>
#include <vector>

#include "store/file.h"
#include "store/queue_log.h"

namespace pulse::store {

// Segment header: magic, the first sequence number the segment was created for (so an empty
// segment still remembers where numbering continues), crc32c of the first 16 bytes, reserved.
inline constexpr size_t kSegmentHeaderBytes = 24;
inline constexpr char kSegmentMagic[8] = {'P', 'L', 'S', 'Q', 'S', 'E', 'G', '1'};
inline constexpr char kAckLogName[] = "acks.log";

inline constexpr uint32_t kNoRecord = UINT32_MAX;  // offsets[] entry of a skipped record
inline constexpr uint8_t kStateAcked = 1;
inline constexpr uint8_t kStateDelivered = 2;

struct QueueLog::Segment {
  uint32_t id = 0;
  uint64_t first_seq = 0;
  std::shared_ptr<File> file;
  uint64_t size = 0;     // bytes including records still in the write buffer
  uint64_t written = 0;  // bytes in the file
  // Indexed by seq - first_seq: record offset (kNoRecord when damaged) and ack/delivery state.
  // 5 bytes per message keeps a 10 M message backlog's index around 50 MiB.
  std::vector<uint32_t> offsets;
  std::vector<uint8_t> state;
  uint64_t live = 0;
  uint64_t ack_records = 0;  // acks.log records about this segment (obsolete once it goes)
  bool dirty = false;        // written since the last flush()

  uint64_t end_seq() const { return first_seq + offsets.size(); }
  bool contains(uint64_t seq) const { return seq >= first_seq && seq < end_seq(); }
};

void encode_segment_header(uint8_t* out, uint64_t first_seq);
// False when the header is damaged or absent.
bool decode_segment_header(const uint8_t* in, size_t n, uint64_t& first_seq);

}  // namespace pulse::store
