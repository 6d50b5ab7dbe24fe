#pragma once
// A published message. Bodies are immutable and shared by reference between every queue the
// message was routed to, so fan-out never copies payloads.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/generated/properties.h"

namespace pulse::broker {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Message {
  std::string exchange;
  std::string routing_key;
  amqp::BasicProperties properties;
  // Encoded properties as they go on the wire; kept so deliveries need no re-encoding.
  std::string raw_properties;
  std::string body;
  // BCC keys taken out of the headers at publish; dead lettering still routes by them.
  std::vector<std::string> bcc_keys;

  bool persistent() const {
    return properties.has(amqp::BasicProperties::kDeliveryMode) && properties.delivery_mode == 2;
  }
  uint8_t priority() const {
    return properties.has(amqp::BasicProperties::kPriority) ? properties.priority : 0;
  }
  // Re-encodes raw_properties after the broker changed `properties` (dead lettering, BCC).
  void reencode_properties();
};

using MessagePtr = std::shared_ptr<const Message>;

// A message's life inside one queue.
struct QueuedMessage {
  MessagePtr msg;
  uint64_t seq = 0;                     // queue-local order, used to requeue in place
  uint64_t store_seq = 0;               // in the queue's store (0: memory only)
  std::optional<TimePoint> expires_at;  // from x-message-ttl and/or expiration
  bool redelivered = false;
  uint32_t delivery_count = 0;  // quorum-style delivery limit
  size_t bytes() const { return msg->body.size(); }
};

// Parses an AMQP `expiration` property (decimal milliseconds). nullopt when invalid.
std::optional<int64_t> parse_expiration(const std::string& s);

}  // namespace pulse::broker
