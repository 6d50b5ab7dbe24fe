#include "stomp/destination.h"

#include <vector>

namespace pulse::stomp {

namespace {

std::vector<std::string_view> split_slash(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t slash = s.find('/');
    parts.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return parts;
}

// RabbitMQ prints the type with ~p of its internal atom.
std::string_view type_word(DestinationKind k) {
  switch (k) {
    case DestinationKind::exchange:
      return "exchange";
    case DestinationKind::queue:
      return "queue";
    case DestinationKind::amq_queue:
      return "amqqueue";
    case DestinationKind::topic:
      return "topic";
    case DestinationKind::temp_queue:
      return "temp_queue";
    case DestinationKind::reply_queue:
      return "reply_queue";
  }
  return "queue";
}

StompError invalid(DestinationKind k, const std::vector<std::string_view>& rest, size_t from) {
  std::string url;
  for (size_t i = from; i < rest.size(); ++i) {
    url += '/';
    url += rest[i];
  }
  return {"Invalid destination",
          "'" + url + "' is not a valid " + std::string(type_word(k)) + " destination\n"};
}

}  // namespace

std::string unescape_destination_segment(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "%2F") == 0) {
      out += '/';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

StompResult<Destination> parse_destination(std::string_view destination) {
  auto parts = split_slash(destination);
  if (parts.size() == 1) {
    // RabbitMQ reports a blank queue name when it declares the queue.
    if (parts[0].empty()) return StompError{"Invalid destination", "Destination cannot be blank"};
    return Destination{DestinationKind::queue, unescape_destination_segment(parts[0]), {}};
  }
  std::optional<DestinationKind> kind;
  size_t first = 2;  // index of the first segment after the prefix
  if (parts[0].empty()) {
    std::string_view t = parts[1];
    if (t == "exchange") kind = DestinationKind::exchange;
    if (t == "queue") kind = DestinationKind::queue;
    if (t == "topic") kind = DestinationKind::topic;
    if (t == "temp-queue") kind = DestinationKind::temp_queue;
    if (t == "amq" && parts.size() >= 3 && parts[2] == "queue") {
      kind = DestinationKind::amq_queue;
      first = 3;
    }
    if (t == "reply-queue" && parts.size() >= 3) {
      std::string_view rest = destination.substr(sizeof("/reply-queue/") - 1);
      if (rest.empty()) return invalid(DestinationKind::reply_queue, parts, 2);
      return Destination{DestinationKind::reply_queue, unescape_destination_segment(rest), {}};
    }
  }
  if (!kind)
    return StompError{"Unknown destination",
                      "'" + std::string(destination) +
                          "' is not a valid destination.\nValid destination types are: "
                          "/temp-queue, /exchange, /topic, /queue, /amq/queue, /reply-queue/.\n"};
  size_t n = parts.size() - first;
  if (*kind == DestinationKind::exchange) {
    if (n == 0 || n > 2 || parts[first].empty()) return invalid(*kind, parts, first);
    Destination d{*kind, unescape_destination_segment(parts[first]), {}};
    if (n == 2) d.pattern = unescape_destination_segment(parts[first + 1]);
    return d;
  }
  if (n != 1 || parts[first].empty()) return invalid(*kind, parts, first);
  return Destination{*kind, unescape_destination_segment(parts[first]), {}};
}

std::optional<Routing> routing_of(const Destination& d) {
  switch (d.kind) {
    case DestinationKind::exchange:
      return Routing{d.name, d.pattern.value_or("")};
    case DestinationKind::topic:
      return Routing{"amq.topic", d.name};
    case DestinationKind::queue:
    case DestinationKind::amq_queue:
    case DestinationKind::reply_queue:
      return Routing{"", d.name};
    case DestinationKind::temp_queue:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace pulse::stomp
