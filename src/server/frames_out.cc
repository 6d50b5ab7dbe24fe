#include "server/frames_out.h"

#include "amqp/frame.h"

namespace pulse::server {

void append_content(OutputQueue& out, uint16_t channel, const broker::MessagePtr& msg,
                    uint32_t frame_max) {
  const std::string_view body = msg->body;
  if (body.size() < OutputQueue::kShareMin) {
    amqp::append_content(out.bytes(), channel, msg->raw_properties(), body, frame_max);
    return;
  }
  amqp::append_content_gathered(out.bytes(), channel, msg->raw_properties(), body, frame_max,
                                [&](std::string_view piece) { out.append_shared(msg, piece); });
}

}  // namespace pulse::server
