#include "store/record.h"

#include <cstring>

#include "store/crc32c.h"

namespace pulse::store {

void put_u32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
void put_u64(uint8_t* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

namespace {
uint32_t record_crc(const uint8_t* rec, uint32_t length) {
  uint32_t c = crc32c(std::span<const uint8_t>(rec, 4));
  return crc32c(std::span<const uint8_t>(rec + 8, length), c);
}
}  // namespace

void append_record(std::vector<uint8_t>& out, RecordType type, uint64_t seq,
                   std::span<const uint8_t> payload) {
  size_t at = out.size();
  uint32_t length = static_cast<uint32_t>(kRecordMinLength + payload.size());
  out.resize(at + kRecordHeaderBytes + payload.size());
  uint8_t* p = out.data() + at;
  put_u32(p, length);
  p[8] = static_cast<uint8_t>(type);
  put_u64(p + 9, seq);
  if (!payload.empty()) std::memcpy(p + kRecordHeaderBytes, payload.data(), payload.size());
  put_u32(p + 4, record_crc(p, length));
}

ParsedRecord parse_record(std::span<const uint8_t> buf, size_t off, uint32_t max_length) {
  ParsedRecord r;
  if (buf.size() - off < kRecordHeaderBytes) return r;  // kTruncated
  const uint8_t* p = buf.data() + off;
  uint32_t length = get_u32(p);
  if (length < kRecordMinLength || length > max_length) {
    r.status = ParsedRecord::Status::kBadLength;
    return r;
  }
  if (buf.size() - off - 8 < length) return r;  // kTruncated
  r.size = 8 + size_t(length);
  if (get_u32(p + 4) != record_crc(p, length)) {
    r.status = ParsedRecord::Status::kBadChecksum;
    return r;
  }
  r.status = ParsedRecord::Status::kOk;
  r.type = static_cast<RecordType>(p[8]);
  r.seq = get_u64(p + 9);
  r.payload = std::span<const uint8_t>(p + kRecordHeaderBytes, length - kRecordMinLength);
  return r;
}

size_t find_next_record(std::span<const uint8_t> buf, size_t from, uint64_t min_seq,
                        uint32_t max_length, bool message_records) {
  for (size_t off = from; off + kRecordHeaderBytes <= buf.size(); ++off) {
    const uint8_t* p = buf.data() + off;
    // Cheap filters first so the crc is computed only at plausible offsets.
    uint8_t type = p[8];
    bool type_ok = message_records ? type == uint8_t(RecordType::kMessage)
                                   : (type == uint8_t(RecordType::kDelivered) ||
                                      type == uint8_t(RecordType::kAck));
    if (!type_ok) continue;
    uint64_t seq = get_u64(p + 9);
    if (seq <= min_seq) continue;  // sequence numbers start at 1
    ParsedRecord r = parse_record(buf, off, max_length);
    if (r.status == ParsedRecord::Status::kOk) return off;
  }
  return buf.size();
}

}  // namespace pulse::store
