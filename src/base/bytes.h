#pragma once
// Big-endian (network order) readers and writers used by every codec. The reader never reads
// past its span; every accessor reports failure instead, so hostile input cannot overrun.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace pulse {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}
  ByteReader(const void* p, size_t n) : data_(static_cast<const uint8_t*>(p), n) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  const uint8_t* cursor() const { return data_.data() + pos_; }

  bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (remaining() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += 4;
    return true;
  }
  bool u64(uint64_t& v) {
    if (remaining() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += 8;
    return true;
  }
  bool bytes(size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = std::string_view(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  bool shortstr(std::string& out) {
    uint8_t n;
    std::string_view sv;
    if (!u8(n) || !bytes(n, sv)) return false;
    out.assign(sv);
    return true;
  }
  bool longstr(std::string& out) {
    uint32_t n;
    std::string_view sv;
    if (!u32(n) || !bytes(n, sv)) return false;
    out.assign(sv);
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Appends to a std::string used as a byte buffer (cheap to hand to socket writes).
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out_.append(b, 2);
  }
  void u32(uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
    out_.append(b, 4);
  }
  void u64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
    out_.append(b, 8);
  }
  void bytes(std::string_view s) { out_.append(s); }
  // Short strings longer than 255 bytes are truncated by callers' validation; here we clamp so a
  // bug can never emit a corrupt frame.
  void shortstr(std::string_view s) {
    size_t n = s.size() > 255 ? 255 : s.size();
    u8(static_cast<uint8_t>(n));
    out_.append(s.data(), n);
  }
  void longstr(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  size_t size() const { return out_.size(); }
  std::string& buffer() { return out_; }
  void patch_u32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<char>(v >> (24 - 8 * i));
  }

 private:
  std::string& out_;
};

}  // namespace pulse
