#pragma once
// CRC32C (Castagnoli), the checksum on every segment and ack-log record. Uses the SSE4.2 crc32
// instruction when the CPU has it (recovery checksums every byte of every segment, so speed
// matters), else a slicing-by-8 table. Both give identical results; the table path is the spec.
#include <cstddef>
#include <cstdint>
#include <span>

namespace pulse::store {

// Extends `crc` (0 for a fresh checksum) over `data`.
uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);
// The portable path, exposed so a test can check both paths agree.
uint32_t crc32c_portable(std::span<const uint8_t> data, uint32_t crc = 0);

}  // namespace pulse::store
