#pragma once
// On-disk record framing shared by segment files and ack logs. Little-endian (the broker only
// runs on little-endian hosts; the format is not meant to be copied across architectures):
//
//   [u32 length][u32 crc32c][u8 type][u64 seq][payload...]
//
// `length` counts the bytes after the crc field (9 + payload). The crc covers the length field
// and everything after the crc field, so a flipped length is caught like any other byte.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pulse::store {

enum class RecordType : uint8_t {
  kMessage = 1,    // segment: a message payload with its queue sequence number
  kDelivered = 2,  // ack log: the message was handed to a consumer (redelivered on recovery)
  kAck = 3,        // ack log: the message is settled and may be forgotten
};

inline constexpr size_t kRecordHeaderBytes = 17;  // length + crc + type + seq
inline constexpr size_t kRecordMinLength = 9;     // type + seq

void append_record(std::vector<uint8_t>& out, RecordType type, uint64_t seq,
                   std::span<const uint8_t> payload);

struct ParsedRecord {
  enum class Status { kOk, kTruncated, kBadLength, kBadChecksum };
  Status status = Status::kTruncated;
  RecordType type = RecordType::kMessage;
  uint64_t seq = 0;
  std::span<const uint8_t> payload;
  size_t size = 0;  // whole record, header included (valid unless kTruncated/kBadLength)
};

// Parses the record at buf[off]. kTruncated: the buffer ends inside the record (a torn tail if
// nothing valid follows). kBadLength: length below the minimum or above `max_length`.
ParsedRecord parse_record(std::span<const uint8_t> buf, size_t off, uint32_t max_length);

// After a damaged record: the first offset >= `from` holding a valid record with a sequence
// number above `min_seq` and of an allowed type, or buf.size() when there is none. Used to tell
// a damaged record in the middle (skip it) from a torn tail (truncate it).
size_t find_next_record(std::span<const uint8_t> buf, size_t from, uint64_t min_seq,
                        uint32_t max_length, bool message_records);

void put_u32(uint8_t* p, uint32_t v);
void put_u64(uint8_t* p, uint64_t v);
uint32_t get_u32(const uint8_t* p);
uint64_t get_u64(const uint8_t* p);

}  // namespace pulse::store
