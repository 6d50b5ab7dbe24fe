#pragma once
// How the definitions store encodes the model's non-scalar fields in its columns. Kept stable:
// a database written by any earlier pulsed decodes with these.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.h"
#include "base/result.h"
#include "definitions/model.h"

namespace pulse::store {

// Argument tables: AMQP field-table bytes (empty bytes = empty table).
std::vector<uint8_t> encode_args(const amqp::FieldTable& t);
Result<amqp::FieldTable> decode_args(const std::vector<uint8_t>& bytes, const std::string& what);

// Vhost metadata: JSON {"description", "tags", "default_queue_type"}. Text written before vhosts
// had metadata (empty) decodes to none.
std::string encode_vhost_metadata(const definitions::Vhost& v);
void decode_vhost_metadata(std::string_view text, definitions::Vhost& v);

// Policy definitions: JSON text of the field table.
std::string encode_policy_definition(const amqp::FieldTable& t);
Result<amqp::FieldTable> decode_policy_definition(const std::string& text, const std::string& what);

// User tags: "a,b".
std::string join_tags(const std::vector<std::string>& tags);
std::vector<std::string> split_tags(const std::string& s);

}  // namespace pulse::store
