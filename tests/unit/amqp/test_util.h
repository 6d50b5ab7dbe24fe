#pragma once
// Small helpers shared by the codec tests: byte-buffer conversions and hex dumps for messages.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace pulse::amqp::testing {

inline std::string bytes(std::initializer_list<uint8_t> b) {
  return std::string(b.begin(), b.end());
}

inline std::span<const uint8_t> as_span(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
    out += ' ';
  }
  return out;
}

}  // namespace pulse::amqp::testing
