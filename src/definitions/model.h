#pragma once
// The one model of broker definitions: what a RabbitMQ definitions export holds, what pulsed keeps
// in its definitions database and what it recovers, imports and exports. Plain values with no
// behaviour; argument tables and policy definitions are amqp::FieldTable, parameter values JSON.
// Every member has an initializer, so a designated initializer names only what it sets.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.h"

namespace pulse::definitions {

struct Vhost {
  std::string name{};
  std::string description{};
  std::vector<std::string> tags{};
  std::string default_queue_type{};  // metadata.default_queue_type, when present
};

struct User {
  std::string name{};
  std::string password_hash{};      // base64; may be empty (no password login)
  std::string hashing_algorithm{};  // RabbitMQ module name, e.g. rabbit_password_hashing_sha256
  std::optional<std::string>
      password{};  // cleartext "password" field of an import, hashed on apply
  std::vector<std::string> tags{};
  // The user's limits as the "limits" object carries them (RabbitMQ 3.8+): validated when
  // applied, merged into the user's by name. Absent in older exports.
  std::optional<nlohmann::json> limits{};
};

struct Permission {
  std::string user{}, vhost{}, configure{}, write{}, read{};
};

struct TopicPermission {
  std::string user{}, vhost{}, exchange{}, write{}, read{};
};

// A vhost parameter. Only vhost limits (component "vhost-limits", name "limits") are applied;
// others (federation, shovel, ...) are parsed and ignored.
struct Parameter {
  std::string vhost{}, component{}, name{};
  nlohmann::json value{};
};

struct GlobalParameter {
  std::string name{};
  nlohmann::json value{};
};

struct Policy {
  std::string vhost{}, name{}, pattern{};
  std::string apply_to = "all";  // "all", "queues", "exchanges", ...
  amqp::FieldTable definition{};
  int64_t priority = 0;
};

struct Exchange {
  std::string vhost{}, name{}, type{};
  bool durable = true;
  bool auto_delete = false;
  bool internal = false;
  amqp::FieldTable arguments{};
};

struct Queue {
  std::string vhost{}, name{};
  std::string type{};  // "classic", "quorum", "stream"; empty when an old export has none
  bool durable = true;
  bool auto_delete = false;
  amqp::FieldTable arguments{};
};

enum class DestinationKind { kQueue, kExchange };
// "queue" / "exchange", as definitions and the management API spell it.
std::string_view destination_kind_name(DestinationKind k);

struct Binding {
  std::string vhost{}, source{}, destination{};
  DestinationKind destination_kind = DestinationKind::kQueue;
  std::string routing_key{};
  amqp::FieldTable arguments{};  // part of the binding's identity, as in RabbitMQ
};

struct Definitions {
  std::string
      rabbit_version{};  // "rabbit_version" or "rabbitmq_version" of an import; may be empty
  std::vector<Vhost> vhosts{};
  std::vector<User> users{};
  std::vector<Permission> permissions{};
  std::vector<TopicPermission> topic_permissions{};
  std::vector<Parameter> parameters{};
  std::vector<GlobalParameter> global_parameters{};
  std::vector<Policy> policies{};
  std::vector<Exchange> exchanges{};
  std::vector<Queue> queues{};
  std::vector<Binding> bindings{};
};

}  // namespace pulse::definitions
