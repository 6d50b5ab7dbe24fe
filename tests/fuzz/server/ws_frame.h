#pragma once
// WebSocket frames as a client writes them (RFC 6455 5.2), for the Web-STOMP target and its
// seeds: a zero masking key leaves the payload readable, so mutations of the seeds stay
// meaningful, while the frame is still masked as a server requires.
#include <cstdint>
#include <string>
#include <string_view>

namespace pulse::fuzz {

inline constexpr uint8_t kWsContinuation = 0x0, kWsText = 0x1, kWsBinary = 0x2, kWsClose = 0x8,
                         kWsPing = 0x9, kWsPong = 0xA;

inline std::string ws_frame(uint8_t opcode, std::string_view payload, bool fin = true,
                            uint32_t mask_key = 0, bool masked = true) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0F)));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(mask_bit | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n));
  } else {
    f.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(n >> (8 * i)));
  }
  const uint8_t key[4] = {uint8_t(mask_key >> 24), uint8_t(mask_key >> 16), uint8_t(mask_key >> 8),
                          uint8_t(mask_key)};
  if (masked) f.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(masked ? payload[i] ^ key[i % 4] : payload[i]));
  return f;
}

// The upgrade request of a Web-STOMP client (Sec-WebSocket-Key is RFC 6455's example).
inline std::string ws_upgrade(std::string_view subprotocols, bool deflate) {
  std::string r =
      "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!subprotocols.empty()) r += "Sec-WebSocket-Protocol: " + std::string(subprotocols) + "\r\n";
  if (deflate) r += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  return r + "\r\n";
}

}  // namespace pulse::fuzz
