#pragma once
// Headers-exchange matching with RabbitMQ 3.x semantics (rabbit_exchange_type_headers).
#include <string_view>

#include "amqp/field_table.h"

namespace pulse::broker {

enum class XMatch { kAll, kAny, kAllWithX, kAnyWithX };

// The binding's x-match mode. Only a long-string "all", "any", "all-with-x" or "any-with-x"
// selects a mode; absent or anything else means all, as RabbitMQ routes unvalidated legacy
// bindings.
XMatch x_match_mode(const amqp::FieldTable& binding_args);

// True when a message with these headers (nullptr = no headers property) matches a binding with
// these arguments:
// - x-match is never a criterion; other keys starting with "x-" are ignored unless the mode is
//   all-with-x or any-with-x;
// - a binding value of type void ('V') matches when the header is present, whatever its value;
// - otherwise the header must be present and equal as Erlang's == compares decoded values:
//   numbers by value across integer, float and timestamp types (1 == 1.0), long strings and
//   byte arrays by bytes, booleans, decimals, and tables/arrays structurally including types;
// - all: every criterion matches (so a binding with no criteria matches every message);
//   any: at least one does (so a binding with no criteria matches nothing).
bool headers_match(const amqp::FieldTable& binding_args, const amqp::FieldTable* message_headers);

// The value comparison used above, exposed for tests.
bool header_values_equal(const amqp::FieldValue& binding, const amqp::FieldValue& header);

}  // namespace pulse::broker
