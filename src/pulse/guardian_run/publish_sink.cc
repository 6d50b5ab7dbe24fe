#include "pulse/guardian_run/publish_sink.h"

#include <utility>

#include "base/log.h"
#include "pulse/envelope.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::guardian {

OutgoingMessage notice_message(const Notice& notice) {
  OutgoingMessage m;
  m.exchange = kNoticeExchange;
  m.routing_key = notice_routing_key(notice);
  m.body = build_envelope(notice_json(notice), m.exchange, m.routing_key, nullptr, notice.at);
  return m;
}

PublishSink::PublishSink(Publish publish) : publish_(std::move(publish)) {}

void PublishSink::send(const Notice& notice) {
  const OutgoingMessage m = notice_message(notice);
  if (const Status st = publish_(m); !st) {
    ++failed_;
    spdlog::warn("guardian: notice {} not published on {}: {}", m.routing_key, m.exchange,
                 st.error().text);
    return;
  }
  ++published_;
}

}  // namespace pulse::guardian
