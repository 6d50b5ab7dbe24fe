#include "pulse/guardian/notice_text.h"

#include <cstdio>

#include "base/rfc3339.h"

namespace pulse::guardian {
namespace {

std::string owner_word(const Notice& n) {
  return n.owner ? *n.owner : std::string(kNoOwner);
}

std::string growth_text(const Notice& n) {
  if (!n.growth_rate) return "unknown (first observation)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f messages/s", *n.growth_rate);
  return buf;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string connection_body(const Notice& n) {
  std::string b = "The connection " + quoted(n.connection) + " has been closed: it was open for " +
                  std::to_string(n.connection_age.count()) + " s, longer than the limit of " +
                  std::to_string(n.max_connection_age.count()) + " s.\n\n";
  b += "User:         " + (n.user.empty() ? std::string("(none)") : n.user) + "\n";
  b += "Vhost:        " + n.vhost + "\n";
  b += "Peer:         " + n.peer + "\n";
  b += "Connected at: " + rfc3339_utc(n.connected_at) + "\n\n";
  b += "Clients are expected to reconnect; one that does not needs fixing.\n";
  return b;
}

std::string binding_lines(const Notice& n) {
  std::string b;
  if (n.bindings.empty()) b += "Bindings:   none\n";
  for (size_t i = 0; i < n.bindings.size(); ++i) {
    b += i == 0 ? "Bindings:   " : "            ";
    b += "exchange " + quoted(n.bindings[i].source) + ", routing key " +
         quoted(n.bindings[i].routing_key) + "\n";
  }
  return b;
}

std::string owner_line(const Notice& n) {
  return "Owner:      " + (n.owner ? *n.owner : std::string("none (not named queue/<owner>/...)")) +
         "\n";
}

// The administrator's words first and as written (they are the point of the mail), then the
// queue as it is now, so the owner knows which one without asking.
std::string operator_body(const Notice& n) {
  std::string b = "A Pulse administrator (" + n.operator_name + ") writes about your queue " +
                  quoted(n.queue) + ":\n\n" + n.message + "\n\n";
  b += "Queue:      " + n.queue + "\n";
  b += "Vhost:      " + n.vhost + "\n";
  b += owner_line(n);
  b += "Messages:   " + std::to_string(n.messages) + " (" + std::to_string(n.messages_ready) +
       " ready, " + std::to_string(n.messages_unacknowledged) + " unacknowledged)\n";
  b += "Consumers:  " + std::to_string(n.consumers) + "\n";
  b += binding_lines(n);
  return b;
}

}  // namespace

std::string rfc3339_utc(TimePoint t) {
  return format_rfc3339_utc(t, 0, "+00:00");
}

std::string notice_routing_key(const Notice& n) {
  return std::string(event_name(n.event)) + "." + owner_word(n);
}

nlohmann::json notice_json(const Notice& n) {
  using nlohmann::json;
  json j;
  j["event"] = std::string(event_name(n.event));
  j["time"] = rfc3339_utc(n.at);
  j["vhost"] = n.vhost;
  j["owner"] = n.owner ? json(*n.owner) : json(nullptr);
  if (n.event == Event::kConnectionClosed) {
    j["connection"] = n.connection;
    j["user"] = n.user;
    j["peer"] = n.peer;
    j["connected_at"] = rfc3339_utc(n.connected_at);
    j["age_seconds"] = n.connection_age.count();
    j["max_connection_age"] = n.max_connection_age.count();
    return j;
  }
  j["queue"] = n.queue;
  j["messages"] = n.messages;
  j["messages_ready"] = n.messages_ready;
  j["messages_unacknowledged"] = n.messages_unacknowledged;
  j["growth_rate"] = n.growth_rate ? json(*n.growth_rate) : json(nullptr);
  j["consumers"] = n.consumers;
  json bindings = json::array();
  for (const auto& b : n.bindings) {
    bindings.push_back({{"exchange", b.source}, {"routing_key", b.routing_key}});
  }
  j["bindings"] = std::move(bindings);
  if (n.event == Event::kOperator) {
    j["operator"] = n.operator_name;
    j["message"] = n.message;
    return j;
  }
  j["warn_queue_size"] = n.thresholds.warn_queue_size;
  j["delete_queue_size"] = n.thresholds.delete_queue_size;
  j["unbounded"] = n.unbounded;
  if (n.event == Event::kIdleDeleted) {
    j["idle_seconds"] = n.idle_for.count();
    j["idle_queue_expiry"] = n.idle_queue_expiry.count();
  }
  return j;
}

std::string email_subject(const Notice& n) {
  const std::string q = "Pulse warning: queue " + quoted(n.queue);
  switch (n.event) {
    case Event::kWarning:
      return q + " is overgrowing";
    case Event::kBackToNormal:
      return q + " is back to normal";
    case Event::kDeleted:
    case Event::kIdleDeleted:
      return q + " has been deleted";
    case Event::kConnectionClosed:
      return "Pulse warning: connection " + quoted(n.connection) + " has been closed";
    case Event::kOperator:
      return "Pulse notice: queue " + quoted(n.queue) + ": a message from a Pulse administrator";
  }
  return q;
}

std::string email_body(const Notice& n) {
  if (n.event == Event::kConnectionClosed) return connection_body(n);
  if (n.event == Event::kOperator) return operator_body(n);
  const auto& t = n.thresholds;
  const std::string warn = std::to_string(t.warn_queue_size);
  const std::string del = std::to_string(t.delete_queue_size);
  std::string b = "Your queue " + quoted(n.queue);
  switch (n.event) {
    case Event::kWarning:
      b += " is overgrowing: it holds more than " + warn + " messages.";
      b += n.unbounded ? " It is marked unbounded and will not be deleted.\n"
                       : " It will be deleted when it holds more than " + del + " messages.\n";
      break;
    case Event::kBackToNormal:
      b += " is back to normal: it holds " + warn + " messages or fewer.\n";
      break;
    case Event::kDeleted:
      b += " has been deleted: it held more than " + del + " messages.\n";
      break;
    case Event::kIdleDeleted:
      b += " has been deleted: it had no consumer for " + std::to_string(n.idle_for.count()) +
           " s, the limit is " + std::to_string(n.idle_queue_expiry.count()) + " s.\n";
      break;
    case Event::kConnectionClosed:
    case Event::kOperator:
      break;
  }
  b += "\n";
  b += "Queue:      " + n.queue + "\n";
  b += "Vhost:      " + n.vhost + "\n";
  b += owner_line(n);
  b += "Messages:   " + std::to_string(n.messages) + " (" + std::to_string(n.messages_ready) +
       " ready, " + std::to_string(n.messages_unacknowledged) + " unacknowledged)\n";
  b += "Growth:     " + growth_text(n) + "\n";
  b += "Consumers:  " + std::to_string(n.consumers) + "\n";
  b += binding_lines(n);
  b += "Thresholds: warning over " + warn + ", deletion over " + del + " messages" +
       (n.unbounded ? " (unbounded: never deleted)" : "") + "\n";
  if (n.event != Event::kBackToNormal) {
    b += "\nMake sure your consumers are running and delete durable queues no one reads any "
         "more.\n";
  }
  return b;
}

}  // namespace pulse::guardian
