#pragma once
// gzip (RFC 1952) decoding with zlib, bounded: build logs and feeds arrive compressed, and a small
// compressed body can expand without end.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace pulse::mgmt {

// True when `data` starts with gzip's magic bytes (a .gz file served without Content-Encoding).
bool looks_gzipped(std::string_view data);

// The decoded bytes of one or more concatenated gzip members. Fails with kBadReply when the
// input is not gzip, is truncated, or decodes to more than `limit` bytes.
Result<std::string> gunzip(std::string_view data, std::uint64_t limit = std::uint64_t{1} << 30);

}  // namespace pulse::mgmt
