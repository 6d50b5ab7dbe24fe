#pragma once
// RabbitMQ definitions JSON (`rabbitmqctl export_definitions`, management GET /api/definitions)
// parsed into plain structs. Users and permissions are applied to an AuthStore here; vhosts,
// exchanges, queues, bindings and policies are applied by the broker owner.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.h"
#include "auth/auth_store.h"
#include "base/result.h"

namespace pulse::app {

struct UserDef {
  std::string name;
  std::string password_hash;            // base64; may be empty (no password login)
  std::string hashing_algorithm;        // resolved: absent means md5 before 3.6.0, else sha256
  std::optional<std::string> password;  // cleartext "password" field, accepted like RabbitMQ
  std::vector<std::string> tags;        // from "a,b" or ["a","b"]
};

struct VhostDef {
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::string default_queue_type;  // metadata.default_queue_type, when present
};

struct PermissionDef {
  std::string user, vhost, configure, write, read;
};

struct TopicPermissionDef {
  std::string user, vhost, exchange, write, read;
};

struct ParameterDef {
  std::string vhost, component, name;
  nlohmann::json value;  // shape depends on the component (federation, shovel, limits, ...)
};

struct GlobalParameterDef {
  std::string name;
  nlohmann::json value;
};

struct PolicyDef {
  std::string vhost, name, pattern;
  std::string apply_to = "all";  // "all", "queues", "exchanges", ...
  amqp::FieldTable definition;
  int64_t priority = 0;
};

struct QueueDef {
  std::string name, vhost;
  bool durable = true;
  bool auto_delete = false;
  std::string type;  // "classic", "quorum", "stream" when exported by 3.8+; else empty
  amqp::FieldTable arguments;
};

struct ExchangeDef {
  std::string name, vhost, type;
  bool durable = true;
  bool auto_delete = false;
  bool internal = false;
  amqp::FieldTable arguments;
};

struct BindingDef {
  std::string source, vhost, destination;
  std::string destination_type;  // "queue" or "exchange"
  std::string routing_key;
  amqp::FieldTable arguments;
};

struct Definitions {
  std::string rabbit_version;  // "rabbit_version" or "rabbitmq_version"; may be empty
  std::vector<UserDef> users;
  std::vector<VhostDef> vhosts;
  std::vector<PermissionDef> permissions;
  std::vector<TopicPermissionDef> topic_permissions;
  std::vector<ParameterDef> parameters;
  std::vector<GlobalParameterDef> global_parameters;
  std::vector<PolicyDef> policies;
  std::vector<QueueDef> queues;
  std::vector<ExchangeDef> exchanges;
  std::vector<BindingDef> bindings;
};

// Errors name the offending entry, e.g. "queues[3] ('q1' in vhost '/'): 'durable' must be a
// boolean". Nesting deeper than amqp::kMaxFieldDepth in argument tables is refused.
Result<Definitions> parse_definitions(std::string_view json_text);
Result<Definitions> load_definitions_file(const std::string& path);

// JSON -> AMQP field value: string 'S', integer 'l', float 'd', bool 't', object 'F',
// array 'A', null 'V'. Fails on unsigned integers above INT64_MAX or excess depth.
Result<amqp::FieldTable> json_to_field_table(const nlohmann::json& object);
// The reverse, for policy definitions kept as JSON text in the store: every integer type
// becomes a JSON integer, float/double/decimal a JSON number, timestamps integers, byte
// arrays strings.
nlohmann::json field_table_to_json(const amqp::FieldTable& table);

// Creates or replaces users (keeping their other permissions), then sets permissions and
// topic permissions. Stops at the first error, naming the entry.
Status apply_auth(const Definitions& defs, auth::AuthStore& store);

}  // namespace pulse::app
