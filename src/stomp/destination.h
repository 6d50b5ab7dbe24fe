#pragma once
// RabbitMQ's STOMP destinations (rabbit_routing_util:parse_endpoint in 3.10) as a pure
// function, with its error texts:
//   /exchange/<name>[/<pattern>]  /queue/<name>  /amq/queue/<name>  /topic/<key>
//   /temp-queue/<name>  /reply-queue/<rest>   and a bare <name> (no '/') for a queue.
// Segments are split on '/', and only "%2F" (upper case) is decoded, to '/'; /reply-queue/
// takes all the rest (slashes included) as the name.
#include <optional>
#include <string>
#include <string_view>

#include "stomp/error.h"

namespace pulse::stomp {

enum class DestinationKind { exchange, queue, amq_queue, topic, temp_queue, reply_queue };

struct Destination {
  DestinationKind kind = DestinationKind::queue;
  std::string name;                    // exchange, queue or temp-queue name; topic's key
  std::optional<std::string> pattern;  // /exchange/<name>/<pattern> only
  bool operator==(const Destination&) const = default;
};

StompResult<Destination> parse_destination(std::string_view destination);

// Where a SEND goes (RabbitMQ's parse_routing): exchange and routing key. /exchange/x is ("x",
// ""); /topic/k is ("amq.topic", k); queues are ("", name). nullopt for /temp-queue/, which
// RabbitMQ accepts only in reply-to.
struct Routing {
  std::string exchange;
  std::string routing_key;
  bool operator==(const Routing&) const = default;
};
std::optional<Routing> routing_of(const Destination& d);

// "%2F" -> "/", nothing else.
std::string unescape_destination_segment(std::string_view s);

}  // namespace pulse::stomp
