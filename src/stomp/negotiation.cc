#include "stomp/negotiation.h"

#include <algorithm>
#include <cstdint>

namespace pulse::stomp {

namespace {

std::optional<Version> exact_version(std::string_view s) {
  if (s == "1.0") return Version::v1_0;
  if (s == "1.1") return Version::v1_1;
  if (s == "1.2") return Version::v1_2;
  return std::nullopt;
}

// Erlang's list_to_integer: optional sign, then one or more digits; clamped, not wrapped.
std::optional<int64_t> parse_integer(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    int d = c - '0';
    n = n > (INT64_MAX - d) / 10 ? INT64_MAX : n * 10 + d;
  }
  return negative ? -n : n;
}

uint64_t round_to_seconds(uint64_t ms) {
  if (ms == 0) return 0;
  if (ms < 1000) return 1000;
  return ms / 1000 * 1000;
}

uint64_t direction(uint64_t client, uint64_t server) {
  if (client == 0 || server == 0) return 0;
  return round_to_seconds(std::max(client, server));
}

}  // namespace

StompResult<Version> negotiate_version(const std::string* accept_version) {
  if (!accept_version) return Version::v1_0;
  std::optional<Version> best;
  std::string_view rest = *accept_version;
  while (true) {
    size_t comma = rest.find(',');
    if (auto v = exact_version(rest.substr(0, comma)); v && (!best || *v > *best)) best = v;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!best) return StompError{"Version mismatch", "Supported versions are 1.0,1.1,1.2\n"};
  return *best;
}

StompResult<HeartBeat> parse_heart_beat(std::string_view value) {
  size_t comma = value.find(',');
  std::optional<int64_t> x, y;
  if (comma != std::string_view::npos) {
    x = parse_integer(value.substr(0, comma));
    y = parse_integer(value.substr(comma + 1));
  }
  if (!x || !y)
    return StompError{"Invalid heart-beat",
                      "heart-beat must be two comma-separated integers (milliseconds), got '" +
                          std::string(value.substr(0, 64)) + "'"};
  return HeartBeat{static_cast<uint64_t>(std::max<int64_t>(*x, 0)),
                   static_cast<uint64_t>(std::max<int64_t>(*y, 0))};
}

std::string HeartBeatTiming::heart_beat() const {
  return std::to_string(send_ms) + "," + std::to_string(receive_ms);
}

HeartBeatTiming negotiate_heart_beat(HeartBeat client, HeartBeat server) {
  // The server sends as often as the client wants to receive (cy) and expects what the client
  // promised to send (cx).
  return {direction(client.cy, server.cx), direction(client.cx, server.cy)};
}

}  // namespace pulse::stomp
