#pragma once
// Every notice as one log line (info), so the broker's log says what the guardian did and why:
//   guardian: deleted.alice: queue 'queue/alice/q1' in vhost '/': 11 messages (8 ready, 3
//   unacknowledged), 0 consumers, +2.0 messages/s; warn over 5, delete over 10
#include <string>

#include "pulse/guardian/notice_sink.h"

namespace pulse::guardian {

std::string notice_log_line(const Notice& notice);

class LogSink : public NoticeSink {
 public:
  void send(const Notice& notice) override;
};

}  // namespace pulse::guardian
