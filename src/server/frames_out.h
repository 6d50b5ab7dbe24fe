#pragma once
// Hot-path frame writers that encode straight from views, with no temporary method structs.
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/message.h"
#include "server/output_queue.h"

namespace pulse::server {

void append_basic_deliver(std::string& out, uint16_t channel, std::string_view consumer_tag,
                          uint64_t delivery_tag, bool redelivered, std::string_view exchange,
                          std::string_view routing_key);
void append_basic_get_ok(std::string& out, uint16_t channel, uint64_t delivery_tag,
                         bool redelivered, std::string_view exchange, std::string_view routing_key,
                         uint32_t message_count);
void append_basic_return(std::string& out, uint16_t channel, uint16_t reply_code,
                         std::string_view reply_text, std::string_view exchange,
                         std::string_view routing_key);

// The content header and body frames of `msg`; a large body is sent from the message itself
// (OutputQueue::kShareMin), not copied.
void append_content(OutputQueue& out, uint16_t channel, const broker::MessagePtr& msg,
                    uint32_t frame_max);

}  // namespace pulse::server
