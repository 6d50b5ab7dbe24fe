#pragma once
// Queue arguments (x-*) validated and parsed once at declare time, with RabbitMQ's error texts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "amqp/field_table.h"
#include "base/result.h"

namespace pulse::broker {

enum class Overflow { kDropHead, kRejectPublish, kRejectPublishDlx };

struct QueueArgs {
  std::optional<int64_t> message_ttl;
  std::optional<int64_t> expires;
  std::optional<int64_t> max_length;
  std::optional<int64_t> max_length_bytes;
  Overflow overflow = Overflow::kDropHead;
  std::optional<std::string> dead_letter_exchange;
  std::optional<std::string> dead_letter_routing_key;
  uint8_t max_priority = 0;  // 0 = not a priority queue
  bool single_active_consumer = false;
  bool quorum = false;
  std::optional<int64_t> delivery_limit;
};

// `what` is the full resource description used in texts: "queue 'q' in vhost '/'".
Result<QueueArgs> parse_queue_args(const amqp::FieldTable& args, const std::string& what);

// A queue type given beside the arguments (definitions' and the management API's "type"
// field): it becomes x-queue-type unless that is already set. "classic", the default, adds
// nothing, as in RabbitMQ: a classic queue keeps exactly the arguments it was given.
void apply_queue_type(amqp::FieldTable& args, std::string_view type);

// RabbitMQ's type names in inequivalent-arg texts ("signedint", "longstr", "bool", ...).
const char* rabbit_type_name(const amqp::FieldValue& v);
// Renders a value the way RabbitMQ prints it in error texts.
std::string rabbit_value_text(const amqp::FieldValue& v);

}  // namespace pulse::broker
