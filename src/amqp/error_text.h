#pragma once
// RabbitMQ's connection-level error texts, reproduced byte for byte because clients and users
// match on them. Several print frame payloads the way Erlang's io_lib prints binaries
// (`<<"abc">>` or `<<0,20,0,10>>`), so the formatting rules live here, next to the codec.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace pulse::amqp {

// Erlang's `~w` of a binary: always the numeric form, `<<1,2,3>>`.
std::string erlang_write_binary(std::span<const uint8_t> bytes);
// Erlang's `~p` of a binary: `<<"text">>` when every byte is printable Latin-1, else `~w`.
std::string erlang_print_binary(std::span<const uint8_t> bytes);
// Appends `s` with Erlang's string escapes (\" \\ \n \r \t \v \b \f \e), as io_lib prints it.
void append_erlang_escaped(std::string& out, std::string_view s);

// RabbitMQ cuts a reply text longer than a short string to its first 252 bytes plus "...".
std::string clamp_reply_text(std::string text);

// 501 "FRAME_ERROR - type T, all octets = <<...>>: REASON" (RabbitMQ's frame_error/5), laid out
// by Erlang's pretty-printer (long terms wrap at 80 columns). REASON is an atom such as
// unknown_frame, or a tuple {TAG,VALUES...} such as {frame_too_large,9000,8184}.
Error frame_error(uint8_t type, std::span<const uint8_t> payload, std::string_view reason_atom);
Error frame_error(uint8_t type, std::span<const uint8_t> payload, std::string_view tag,
                  std::initializer_list<uint64_t> values);
// 505 "UNEXPECTED_FRAME - type T, all octets = <<...>>" (RabbitMQ's unexpected_frame/4).
Error unexpected_frame(uint8_t type, std::span<const uint8_t> payload);
// 501 "FRAME_ERROR - cannot decode <<args>>" for arguments that do not match the method's layout.
Error cannot_decode(std::span<const uint8_t> args, uint16_t class_id, uint16_t method_id);

}  // namespace pulse::amqp
