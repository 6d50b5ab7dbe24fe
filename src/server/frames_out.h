#pragma once
// What a channel writes per message. The frame encoders are the codec's (amqp/basic_frames.h),
// named here so the channel code calls them as before; this file only adds the part that knows
// about broker messages and the connection's OutputQueue.
#include <cstdint>

#include "amqp/basic_frames.h"
#include "broker/message.h"
#include "server/output_queue.h"

namespace pulse::server {

using amqp::append_basic_deliver;
using amqp::append_basic_get_ok;
using amqp::append_basic_return;

// The content header and body frames of `msg`; a large body is sent from the message itself
// (OutputQueue::kShareMin), not copied.
void append_content(OutputQueue& out, uint16_t channel, const broker::MessagePtr& msg,
                    uint32_t frame_max);

}  // namespace pulse::server
