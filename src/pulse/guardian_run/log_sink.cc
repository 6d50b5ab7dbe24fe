#include "pulse/guardian_run/log_sink.h"

#include <cstdio>

#include "base/log.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::guardian {

std::string notice_log_line(const Notice& n) {
  std::string line = "guardian: " + notice_routing_key(n) + ": ";
  if (n.event == Event::kConnectionClosed) {
    line += "connection '" + n.connection + "' of user '" + n.user + "' from " + n.peer +
            " closed: open " + std::to_string(n.connection_age.count()) +
            " s, max_connection_age " + std::to_string(n.max_connection_age.count()) + " s";
    return line;
  }
  if (n.event == Event::kOperator) {
    // The message itself is the mail's and the exchange's; the log says who wrote to whom.
    return line + "operator '" + n.operator_name + "' wrote to the owner of queue '" + n.queue +
           "' in vhost '" + n.vhost + "' (" + std::to_string(n.message.size()) + " bytes)";
  }
  line += "queue '" + n.queue + "' in vhost '" + n.vhost + "': " + std::to_string(n.messages) +
          " messages (" + std::to_string(n.messages_ready) + " ready, " +
          std::to_string(n.messages_unacknowledged) + " unacknowledged), " +
          std::to_string(n.consumers) + " consumers";
  if (n.growth_rate) {
    char rate[48];
    std::snprintf(rate, sizeof rate, ", %+.1f messages/s", *n.growth_rate);
    line += rate;
  }
  line += "; warn over " + std::to_string(n.thresholds.warn_queue_size) + ", delete over " +
          std::to_string(n.thresholds.delete_queue_size);
  if (n.unbounded) line += ", unbounded (never deleted)";
  if (n.event == Event::kIdleDeleted) {
    line += "; no consumer for " + std::to_string(n.idle_for.count()) + " s, idle_queue_expiry " +
            std::to_string(n.idle_queue_expiry.count()) + " s";
  }
  return line;
}

void LogSink::send(const Notice& notice) {
  spdlog::info("{}", notice_log_line(notice));
}

}  // namespace pulse::guardian
