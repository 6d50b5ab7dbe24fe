#pragma once
// Notices as Pulse messages: each notice's JSON (notice_text.h) in the Pulse envelope on
// exchange/pulse/guardian with routing key `<event>.<owner>`, content type application/json,
// persistent. How the message reaches the broker is the owner's: pulsed publishes in-process on
// vhost "/", pulse-guardian will hand it to a pulse::Publisher.
#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "pulse/guardian/notice_sink.h"

namespace pulse::guardian {

struct OutgoingMessage {
  std::string exchange;
  std::string routing_key;
  std::string body;  // UTF-8 JSON: {"payload": notice_json, "_meta": {...}}
  std::string content_type = "application/json";
  bool persistent = true;  // delivery mode 2
};

// The envelope's `sent` is the notice's time, so a message says when the guardian acted.
OutgoingMessage notice_message(const Notice& notice);

class PublishSink : public NoticeSink {
 public:
  // An error returned is logged (one line per lost notice) and counted; nothing is retried
  // here: a Publisher with its own recovery retries, an in-process publish cannot fail but
  // for a missing exchange, which a retry would not bring back.
  using Publish = std::function<Status(const OutgoingMessage&)>;
  explicit PublishSink(Publish publish);

  void send(const Notice& notice) override;

  uint64_t published() const { return published_; }
  uint64_t failed() const { return failed_; }

 private:
  Publish publish_;
  uint64_t published_ = 0;
  uint64_t failed_ = 0;
};

}  // namespace pulse::guardian
