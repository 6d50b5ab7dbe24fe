#pragma once
// Reading request bodies the way RabbitMQ's management plugin does (rabbit_mgmt_util's
// with_decode, rabbit_mgmt_format's parse_bool), so that clients get the same 400 reasons.
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace pulse::http {

// A list of Erlang terms as io_lib's ~p prints it: on one line when it fits in 80 columns,
// else one element per line.
std::string erlang_list(const std::vector<std::string>& terms);

// with_decode: every key must be present (any type); else 400 with the missing ones, in the
// order given, e.g. "[{key_missing,ackmode},{key_missing,encoding}]".
std::optional<Response> require_keys(const nlohmann::json& body,
                                     std::initializer_list<const char*> keys);

// A 400 whose reason is an Erlang tuple {tag, value}, which RabbitMQ's JSON encoder writes as
// a list: ["not_boolean","yes"], ["not_base64","x"], ...
Response bad_request_term(std::string_view tag, const nlohmann::json& value);

// parse_bool: true/false or "true"/"false"; an absent key leaves `out` alone;
// anything else is 400 ["not_boolean", value].
std::optional<Response> read_flag(const nlohmann::json& body, const char* key, bool& out);

// parse_int: a number (truncated) or a string of digits; else 400 ["not_integer", value].
std::optional<Response> read_int(const nlohmann::json& value, int64_t& out);

}  // namespace pulse::http
