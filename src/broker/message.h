#pragma once
// A published message. It is allocated once at publish and shared by reference between every
// queue it was routed to, so fan-out never copies it.
//
// The content-header properties are kept as the encoded bytes the publisher sent: deliveries,
// the store and returns forward them unchanged. The few fields the broker acts on for every
// message (delivery mode, priority, expiration) are read from those bytes at publish; the
// complete `BasicProperties` is decoded only when something must look inside (headers exchange,
// CC/BCC, user_id, dead lettering, the management API) and then kept.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/generated/properties.h"

namespace pulse::broker {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Message {
  Message() = default;
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;
  Message(const Message& o);
  Message& operator=(const Message& o);

  std::string exchange;
  std::string routing_key;
  std::string body;
  // BCC keys taken out of the headers at publish; dead lettering still routes by them.
  std::vector<std::string> bcc_keys;

  // Encoded properties as they go on the wire.
  const std::string& raw_properties() const { return raw_properties_; }
  bool has(uint16_t flag) const { return (flags_ & flag) != 0; }
  bool persistent() const {
    return has(amqp::BasicProperties::kDeliveryMode) && delivery_mode_ == 2;
  }
  uint8_t priority() const { return has(amqp::BasicProperties::kPriority) ? priority_ : 0; }
  // The per-message TTL in milliseconds; nullopt when absent or not a valid expiration.
  std::optional<int64_t> expiration_ms() const {
    return expiration_ms_ < 0 ? std::nullopt : std::optional<int64_t>(expiration_ms_);
  }

  // Takes encoded properties as received. False (and the message unchanged) when they are
  // malformed. A header table is decoded (and so validated) at once: the broker looks at it
  // for CC/BCC on every publish anyway.
  bool set_raw_properties(std::string_view raw);
  // All properties, decoded on first use. The event-loop thread only (the cache is not locked).
  const amqp::BasicProperties& properties() const;
  // Replaces the properties and re-encodes them (dead lettering, BCC, reply-to, the API).
  void set_properties(amqp::BasicProperties p);

  // Makes this an empty message again but keeps its strings' capacity (message_pool.h); false,
  // and nothing changed, when the body's capacity is above `max_body_capacity`. Every field
  // must be reset here.
  bool clear_for_reuse(size_t max_body_capacity);

 private:
  void take_summary(const amqp::BasicProperties& p);

  std::string raw_properties_ = std::string("\0\0", 2);
  mutable std::unique_ptr<amqp::BasicProperties> decoded_;
  uint16_t flags_ = 0;
  uint8_t delivery_mode_ = 0;
  uint8_t priority_ = 0;
  int64_t expiration_ms_ = -1;
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
std::optional<int64_t> parse_expiration(std::string_view s);

}  // namespace pulse::broker
