#include "definitions/snapshot.h"

#include "auth/password.h"

namespace pulse::definitions {

Vhost snapshot(const broker::VHost& vh) {
  const broker::VHostMetadata& m = vh.metadata();
  return Vhost{.name = vh.name(),
               .description = m.description,
               .tags = m.tags,
               .default_queue_type = m.default_queue_type};
}

User snapshot(const auth::User& u) {
  return User{.name = u.name,
              .password_hash = u.password_hash,
              .hashing_algorithm = std::string(auth::hash_algorithm_name(u.algorithm)),
              .password = std::nullopt,
              .tags = u.tags,
              .limits = nlohmann::json(u.limits)};
}

Permission snapshot(const auth::PermissionEntry& p) {
  return Permission{
      .user = p.user, .vhost = p.vhost, .configure = p.configure, .write = p.write, .read = p.read};
}

TopicPermission snapshot(const auth::TopicPermissionEntry& p) {
  return TopicPermission{
      .user = p.user, .vhost = p.vhost, .exchange = p.exchange, .write = p.write, .read = p.read};
}

Policy snapshot(const broker::Policy& p) {
  return Policy{.vhost = p.vhost(),
                .name = p.name(),
                .pattern = p.pattern(),
                .apply_to = std::string(broker::apply_to_name(p.apply_to())),
                .definition = p.definition(),
                .priority = p.priority()};
}

Exchange snapshot(const std::string& vhost, const broker::Exchange& x) {
  return Exchange{.vhost = vhost,
                  .name = x.name(),
                  .type = std::string(broker::exchange_type_name(x.type())),
                  .durable = x.durable(),
                  .auto_delete = x.auto_delete(),
                  .internal = x.internal(),
                  .arguments = x.arguments()};
}

Queue snapshot(const std::string& vhost, const broker::Queue& q) {
  const amqp::FieldValue* type = amqp::find(q.arguments(), "x-queue-type");
  const std::string* type_name = type ? type->as_string() : nullptr;
  return Queue{.vhost = vhost,
               .name = q.name(),
               .type = type_name ? *type_name : "classic",
               .durable = q.durable(),
               .auto_delete = q.auto_delete(),
               .arguments = q.arguments()};
}

Binding snapshot(const std::string& vhost, const broker::Binding& b) {
  return Binding{.vhost = vhost,
                 .source = b.source,
                 .destination = b.destination.name,
                 .destination_kind = b.destination.is_exchange ? DestinationKind::kExchange
                                                               : DestinationKind::kQueue,
                 .routing_key = b.routing_key,
                 .arguments = b.arguments};
}

nlohmann::json limits_json(const broker::LimitList& limits) {
  if (limits.empty()) return nlohmann::json::array();
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : limits) out[k] = v;
  return out;
}

std::optional<Parameter> limits_snapshot(const broker::VHost& vh) {
  if (!vh.limits()) return std::nullopt;
  return Parameter{.vhost = vh.name(),
                   .component = std::string(broker::kVhostLimitsComponent),
                   .name = std::string(broker::kVhostLimitsName),
                   .value = limits_json(*vh.limits())};
}

}  // namespace pulse::definitions
