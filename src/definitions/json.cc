// The model as RabbitMQ 3.10 exports it (GET /api/definitions).
#include "definitions/json.h"

#include "amqp/field_table_json.h"

namespace pulse::definitions {

using nlohmann::json;

std::string_view destination_kind_name(DestinationKind k) {
  return k == DestinationKind::kExchange ? "exchange" : "queue";
}

json metadata_json(const Vhost& v) {
  json j = {{"description", v.description}, {"tags", v.tags}};
  if (!v.default_queue_type.empty()) j["default_queue_type"] = v.default_queue_type;
  return j;
}

json to_json(const Vhost& v) {
  return {{"name", v.name}, {"limits", json::array()}, {"metadata", metadata_json(v)}};
}

json to_json(const User& u) {
  return {{"name", u.name},
          {"password_hash", u.password_hash},
          {"hashing_algorithm", u.hashing_algorithm},
          {"tags", u.tags},
          {"limits", u.limits ? *u.limits : json::object()}};
}

json to_json(const Permission& p) {
  return {{"user", p.user},
          {"vhost", p.vhost},
          {"configure", p.configure},
          {"write", p.write},
          {"read", p.read}};
}

json to_json(const TopicPermission& p) {
  return {{"user", p.user},
          {"vhost", p.vhost},
          {"exchange", p.exchange},
          {"write", p.write},
          {"read", p.read}};
}

json to_json(const Parameter& p) {
  return {{"value", p.value}, {"vhost", p.vhost}, {"component", p.component}, {"name", p.name}};
}

json to_json(const GlobalParameter& p) {
  return {{"name", p.name}, {"value", p.value}};
}

json to_json(const Policy& p) {
  return {{"vhost", p.vhost},
          {"name", p.name},
          {"pattern", p.pattern},
          {"apply-to", p.apply_to},
          {"definition", amqp::field_table_to_json(p.definition)},
          {"priority", p.priority}};
}

json to_json(const Exchange& x) {
  return {{"name", x.name},
          {"vhost", x.vhost},
          {"type", x.type},
          {"durable", x.durable},
          {"auto_delete", x.auto_delete},
          {"internal", x.internal},
          {"arguments", amqp::field_table_to_json(x.arguments)}};
}

// No "type": pulsed's export has never written it (the arguments carry x-queue-type).
json to_json(const Queue& q) {
  return {{"name", q.name},
          {"vhost", q.vhost},
          {"durable", q.durable},
          {"auto_delete", q.auto_delete},
          {"arguments", amqp::field_table_to_json(q.arguments)}};
}

json to_json(const Binding& b) {
  return {{"source", b.source},
          {"vhost", b.vhost},
          {"destination", b.destination},
          {"destination_type", destination_kind_name(b.destination_kind)},
          {"routing_key", b.routing_key},
          {"arguments", amqp::field_table_to_json(b.arguments)}};
}

}  // namespace pulse::definitions
