#pragma once
// Field tables as JSON, the way RabbitMQ shows arguments in definitions and the management API.
// Shared by app/ (definitions files, stored policies) and http/ (management API).
#include <nlohmann/json.hpp>

#include "amqp/field_table.h"
#include "base/result.h"

namespace pulse::amqp {

// JSON -> AMQP field value: string 'S', integer 'l', float 'd', bool 't', object 'F',
// array 'A', null 'V'. Fails (Error::code 0, a short reason) on a non-object, unsigned
// integers above INT64_MAX or nesting deeper than kMaxFieldDepth.
Result<FieldTable> json_to_field_table(const nlohmann::json& object);
Result<FieldValue> json_to_field_value(const nlohmann::json& value);
// The reverse: every integer type becomes a JSON integer, float/double/decimal a JSON
// number, timestamps integers, byte arrays strings, void null.
nlohmann::json field_table_to_json(const FieldTable& table);
nlohmann::json field_value_to_json(const FieldValue& value);

}  // namespace pulse::amqp
