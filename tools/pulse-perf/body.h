#pragma once
// The message body: 12 bytes of identity and timing, then zero padding up to -s.
//   bytes 0-7   producer tag (top 20 bits) | sequence number (low 44 bits), little-endian
//   bytes 8-11  send time in microseconds since the run started, modulo 2^32
// 12 bytes is PerfTest's default message size, so every size PerfTest accepts works here. The
// producer tags of a run start at a random base, so leftovers from another run in a named
// queue are recognised as foreign instead of counting as duplicates.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pulse::perf {

inline constexpr size_t kMinBodySize = 12;
inline constexpr int kSeqBits = 44;
inline constexpr uint64_t kSeqMask = (uint64_t{1} << kSeqBits) - 1;
inline constexpr uint32_t kMaxProducerTag = (1u << 20) - 1;

inline void write_body(std::string& body, uint32_t producer_tag, uint64_t seq, uint32_t sent_us) {
  const uint64_t id = uint64_t{producer_tag} << kSeqBits | (seq & kSeqMask);
  std::memcpy(body.data(), &id, 8);
  std::memcpy(body.data() + 8, &sent_us, 4);
}

struct BodyInfo {
  uint32_t producer_tag = 0;
  uint64_t seq = 0;
  uint32_t sent_us = 0;
};

inline bool read_body(std::string_view body, BodyInfo& out) {
  if (body.size() < kMinBodySize) return false;
  uint64_t id;
  std::memcpy(&id, body.data(), 8);
  std::memcpy(&out.sent_us, body.data() + 8, 4);
  out.producer_tag = static_cast<uint32_t>(id >> kSeqBits);
  out.seq = id & kSeqMask;
  return true;
}

}  // namespace pulse::perf
