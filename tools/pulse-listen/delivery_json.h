#pragma once
// How pulse-listen prints a delivery: one JSON object per line,
//   {"exchange": "...", "routing_key": "...", "redelivered": false,
//    "properties": {only those present}, "body": <JSON value | string>[, "body_encoding":
//    "base64"]}
// or, with --raw, the body bytes alone followed by '\n'.
#include <string>
#include <string_view>

#include "client/types.h"

namespace pulse::tools {

// Appends the JSON line (with its '\n') for `d` to `out`. The body is embedded as a JSON value
// when it is JSON (its line breaks, which valid JSON can only have between tokens, become
// spaces), as a string when it is other UTF-8 text, else base64 with "body_encoding": "base64".
void append_delivery_json(std::string& out, const client::Delivery& d);
// Appends the body and '\n'.
void append_delivery_raw(std::string& out, const client::Delivery& d);

// Building blocks, exposed for the tests.
bool valid_utf8(std::string_view s);
// A JSON string literal (quotes included); bytes that are not valid UTF-8 become U+FFFD.
void append_json_string(std::string& out, std::string_view s);
void append_base64(std::string& out, std::string_view bytes);

}  // namespace pulse::tools
