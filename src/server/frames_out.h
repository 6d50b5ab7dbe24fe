#pragma once
// Hot-path frame writers that encode straight from views, with no temporary method structs.
#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace pulse::server
