#pragma once
// CONNECT-time negotiation as pure functions: protocol version from accept-version and
// heart-beat intervals from the client's cx,cy against the server's sx,sy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stomp/error.h"
#include "stomp/frame.h"

namespace pulse::stomp {

// RabbitMQ's choice: accept-version split on ',' (no trimming), the highest of those that are
// exactly 1.0, 1.1 or 1.2; a missing header means 1.0. Otherwise "Version mismatch".
StompResult<Version> negotiate_version(const std::string* accept_version);

// heart-beat:cx,cy (milliseconds): cx the sender's promise, cy what it wants to receive.
struct HeartBeat {
  uint64_t cx = 0;
  uint64_t cy = 0;
  bool operator==(const HeartBeat&) const = default;
};

// Two comma-separated decimals; as RabbitMQ, a leading sign is read and a negative value means
// 0. A missing header is "0,0" (the caller passes "0,0").
StompResult<HeartBeat> parse_heart_beat(std::string_view value);

// What the server does after CONNECT: send a heart-beat every send_ms, expect something from
// the client within receive_ms; 0 is off. `heart_beat` is CONNECTED's header value.
struct HeartBeatTiming {
  uint64_t send_ms = 0;
  uint64_t receive_ms = 0;
  bool operator==(const HeartBeatTiming&) const = default;
  std::string heart_beat() const;
};

// STOMP's rule (each direction off when either side says 0, else the larger of the two),
// then RabbitMQ's rounding to whole seconds (1..999 ms is one second). `server` is sx,sy: how
// often the server can send and how often it wants to hear; RabbitMQ behaves as {1, 1}.
HeartBeatTiming negotiate_heart_beat(HeartBeat client, HeartBeat server = {1, 1});

}  // namespace pulse::stomp
