#pragma once
// The model <-> RabbitMQ's definitions JSON (`rabbitmqctl export_definitions`, management
// GET/POST /api/definitions). The one place both directions live: pulsed's --definitions and
// POST /api/definitions parse with it, GET /api/definitions writes with it.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/result.h"
#include "definitions/model.h"

namespace pulse::definitions {

// Errors (Error::code 0) name the offending entry, e.g. "invalid definitions: queues[3] ('q1' in
// vhost '/'): 'durable' must be a boolean". Argument tables are converted with
// amqp::json_to_field_table (string S, integer l, float d, bool t, object F, array A, null V;
// nesting deeper than amqp::kMaxFieldDepth is refused). A user without `hashing_algorithm` gets
// MD5 in exports older than 3.6.0, else SHA-256, as RabbitMQ does.
Result<Definitions> parse_definitions(std::string_view json_text);
Result<Definitions> load_definitions_file(const std::string& path);

// One export entry each, with RabbitMQ 3.10's fields.
nlohmann::json to_json(const Vhost& v);
nlohmann::json to_json(const User& u);
nlohmann::json to_json(const Permission& p);
nlohmann::json to_json(const TopicPermission& p);
nlohmann::json to_json(const Parameter& p);  // value, vhost, component, name
nlohmann::json to_json(const GlobalParameter& p);
nlohmann::json to_json(const Policy& p);
nlohmann::json to_json(const Exchange& x);
nlohmann::json to_json(const Queue& q);
nlohmann::json to_json(const Binding& b);
// A vhost's "metadata" object: description, tags, default_queue_type when set.
nlohmann::json metadata_json(const Vhost& v);

}  // namespace pulse::definitions
