#pragma once
// RabbitMQ 3.10's STOMP <-> AMQP mapping (rabbit_stomp_util, rabbit_routing_util) as pure
// functions: SEND headers to basic properties, properties to MESSAGE headers, the message-id
// of a delivery, destination formatting and the names RabbitMQ gives subscription queues.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.h"
#include "amqp/generated/properties.h"
#include "stomp/frame.h"

namespace pulse::stomp_server {

// rabbit_stomp_util:message_properties: content-type, content-encoding, persistent (only
// "true" gives delivery_mode 2), priority, correlation-id, reply-to, expiration,
// amqp-message-id, timestamp, type, user-id, app-id; every other header but destination goes
// into the headers table as a long string, in frame order.
amqp::BasicProperties message_properties(const stomp::Frame& frame);

// rabbit_stomp_util:message_headers + headers_post_process: the AMQP headers table's long
// strings and 32/64-bit integers in order (other types are dropped), then the properties in
// RabbitMQ's (reversed) order: app-id, user-id, type, timestamp, amqp-message-id,
// expiration, reply-to (prefixed /reply-queue/ unless it is a destination), correlation-id,
// priority, persistent, content-encoding, content-type.
std::vector<stomp::Header> message_headers(const amqp::BasicProperties& props);

// "/queue/<key>" for the default exchange, "/topic/<key>" for amq.topic, else
// "/exchange/<x>[/<key>]", each name escaped as RabbitMQ does ('/' -> %2F, '%' -> %25,
// bytes outside 32..127 -> %XX).
std::string format_destination(std::string_view exchange, std::string_view routing_key);
std::string escape_destination(std::string_view s);

// stomp-subscription-<base64url(md5(term_to_binary({Name, Id})))>, Name and Id as Erlang
// strings: the queue name of a durable topic/exchange subscription, as RabbitMQ computes it.
std::string subscription_queue_name(std::string_view name, std::string_view id);
// The same shape for a random id (non-durable subscriptions).
std::string random_subscription_queue_name();
// "session-<base64url of 16 random bytes>".
std::string new_session_id();

// ConsumerTag@@SessionId@@DeliveryTag.
std::string create_message_id(std::string_view tag, std::string_view session, uint64_t delivery);
struct MessageId {
  std::string tag;
  std::string session;
  uint64_t delivery_tag = 0;
};
std::optional<MessageId> parse_message_id(std::string_view id);

// "true"/"True" and "false"/"False", else nullopt (rabbit_stomp_util:string_to_boolean).
std::optional<bool> string_to_boolean(std::string_view v);
// rabbit_stomp_frame:boolean_header / integer_header.
std::optional<bool> boolean_header(const stomp::Frame& f, std::string_view name);
std::optional<int64_t> integer_header(const stomp::Frame& f, std::string_view name);

// The x-* queue argument headers RabbitMQ forwards to queue.declare (x-dead-letter-exchange,
// x-dead-letter-routing-key, x-expires, x-max-length, x-max-length-bytes, x-max-priority,
// x-message-ttl, x-queue-type), integers as longs. nullopt when an integer header is not one
// (RabbitMQ's list_to_integer crashes there: "Processing error").
std::optional<amqp::FieldTable> queue_arguments(const stomp::Frame& f);

std::string base64url(std::string_view bytes);

// Erlang's ~p of a string, as RabbitMQ's error texts print names: "quoted" when every byte is
// printable (Latin-1), else the list of byte values, [1,2,103].
std::string erl_quote(std::string_view s);

}  // namespace pulse::stomp_server
