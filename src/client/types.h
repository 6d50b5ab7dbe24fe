#pragma once
// What the client hands to application code: deliveries (views valid only during the handler
// call, so the hot path copies nothing), owned messages (basic.get), returns and confirms.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "amqp/field_table.h"
#include "amqp/generated/properties.h"

namespace pulse::client {

class Channel;

// A basic.deliver with its content. Every view points into the connection's buffers and is
// valid only until the handler returns; copy what must outlive it.
struct Delivery {
  Channel* channel = nullptr;
  std::string_view consumer_tag;
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string_view exchange;
  std::string_view routing_key;
  const amqp::BasicProperties* properties = nullptr;
  std::string_view body;
};

// An owned message (basic.get-ok).
struct Message {
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  uint32_t message_count = 0;
  amqp::BasicProperties properties;
  std::string body;
};

// A basic.return (mandatory publish that could not be routed). Views as in Delivery.
struct Returned {
  uint16_t reply_code = 0;
  std::string_view reply_text;
  std::string_view exchange;
  std::string_view routing_key;
  const amqp::BasicProperties* properties = nullptr;
  std::string_view body;
};

using DeliveryHandler = std::function<void(const Delivery&)>;
using ReturnHandler = std::function<void(const Returned&)>;
// Publisher confirms: called once per contiguous run [first, last] of publish sequence numbers
// that this basic.ack/basic.nack newly settled (a multiple ack may settle several runs when
// single acks already settled tags in between). ack=false for basic.nack.
using ConfirmHandler = std::function<void(uint64_t first, uint64_t last, bool ack)>;
// The server cancelled a consumer (queue deleted, ...: consumer_cancel_notify).
using CancelHandler = std::function<void(std::string_view consumer_tag)>;
// connection.blocked (true, reason) / connection.unblocked (false, "").
using BlockedHandler = std::function<void(bool blocked, std::string_view reason)>;

struct ExchangeOptions {
  bool passive = false;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  amqp::FieldTable arguments;
};

struct QueueOptions {
  bool passive = false;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  amqp::FieldTable arguments;
};

struct QueueInfo {
  std::string name;  // the server's name for a server-named queue
  uint32_t message_count = 0;
  uint32_t consumer_count = 0;
};

struct ConsumeOptions {
  std::string consumer_tag;  // empty: the server picks one
  bool no_ack = false;
  bool exclusive = false;
  bool no_local = false;
  amqp::FieldTable arguments;
};

struct IoStats {
  uint64_t reads = 0;  // read syscalls that returned data
  uint64_t writes = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t frames_in = 0;
};

}  // namespace pulse::client
