// Declare, delete, purge and bind (publish, consume and get: operations_publish.cc).
#include "broker/operations.h"

#include "broker/broker.h"
#include "broker/names.h"

namespace pulse::broker::ops {

using auth::Access;
using auth::NamespaceAction;

Result<Exchange*> declare_exchange(Principal& p, const ExchangeDeclare& d) {
  VHost& vh = p.vhost();
  if (d.name.empty()) return default_exchange_refused();
  if (d.passive) return vh.lookup_exchange(d.name);
  if (!parse_exchange_type(d.type)) return unknown_exchange_type(d.type);
  if (auto s = p.check(Resource::kExchange, d.name, Access::kConfigure); !s) return s.error();
  if (auto s = p.check_namespace_exchange(d.name, d.type, d.durable); !s) return s.error();
  if (!vh.find_exchange(d.name)) {
    // Only a new exchange is refused the reserved prefix: redeclaring amq.direct is fine.
    if (is_reserved_name(d.name)) return reserved_name_refused("exchange", d.name);
    if (const auto* ae = amqp::find(d.arguments, "alternate-exchange")) {
      if (!ae->as_string()) {
        return precondition_failed(std::string("invalid type '") + rabbit_type_name(*ae) +
                                   "' for arg 'alternate-exchange' in " +
                                   resource_name("exchange", d.name, vh.name()));
      }
      // Publishing here may end up in the alternate exchange.
      if (auto s = p.check(Resource::kExchange, d.name, Access::kRead); !s) return s.error();
      if (auto s = p.check(Resource::kExchange, *ae->as_string(), Access::kWrite); !s)
        return s.error();
    }
  }
  return vh.declare_exchange(d);
}

Status delete_exchange(Principal& p, const std::string& name, bool if_unused) {
  if (name.empty()) return default_exchange_refused();
  if (is_reserved_name(name)) return system_exchange_deletion_refused(name, p.vhost().name());
  if (auto s = p.check(Resource::kExchange, name, Access::kConfigure); !s) return s;
  if (auto s = p.check_namespace(Resource::kExchange, name, NamespaceAction::kDelete); !s) return s;
  return p.vhost().delete_exchange(name, if_unused);
}

Result<QueuePtr> declare_queue(Principal& p, QueueDeclare d) {
  VHost& vh = p.vhost();
  d.connection_id = p.connection_id();
  d.server_named = false;
  if (!d.passive) {
    if (is_reserved_name(d.name)) return reserved_name_refused("queue", d.name);
    if (d.name.empty()) {
      d.name = vh.broker().generate_name("amq.gen-");
      d.server_named = true;
    }
    if (auto s = p.check(Resource::kQueue, d.name, Access::kConfigure); !s) return s.error();
    // Server-named queues (amq.gen-...) are outside every namespace: refused in strict mode,
    // as the reference's configure regex refuses them.
    if (auto s = p.check_namespace(Resource::kQueue, d.name, NamespaceAction::kDeclare); !s)
      return s.error();
    if (!vh.find_queue(d.name)) {
      // Only new queues count against the vhost's max-queues (rabbit_channel checks it before
      // the dead-letter permissions).
      if (auto s = check_vhost_queue_limit(vh, d.name); !s) return s.error();
      // Dead letters of a new queue are published to its dead-letter exchange.
      const auto* dlx = amqp::find(d.arguments, "x-dead-letter-exchange");
      if (dlx && dlx->as_string()) {
        if (auto s = p.check(Resource::kQueue, d.name, Access::kRead); !s) return s.error();
        if (auto s = p.check(Resource::kExchange, *dlx->as_string(), Access::kWrite); !s)
          return s.error();
      }
    }
  }
  // Exclusive queues are never durable, as in RabbitMQ.
  d.durable = d.durable && !d.exclusive;
  return vh.declare_queue(std::move(d));
}

Result<size_t> delete_queue(Principal& p, const std::string& name, bool if_unused, bool if_empty) {
  if (auto s = p.check(Resource::kQueue, name, Access::kConfigure); !s) return s.error();
  if (auto s = p.check_namespace(Resource::kQueue, name, NamespaceAction::kDelete); !s)
    return s.error();
  return p.vhost().delete_queue(name, if_unused, if_empty, p.connection_id());
}

Result<size_t> purge_queue(Principal& p, const std::string& name) {
  if (auto s = p.check(Resource::kQueue, name, Access::kRead); !s) return s.error();
  return p.vhost().purge_queue(name, p.connection_id());
}

namespace {
// rabbit_channel:binding_action's checks, for bind and unbind alike.
Status check_binding(Principal& p, const std::string& source, const Destination& dest,
                     const std::string& key) {
  auto dest_kind = dest.is_exchange ? Resource::kExchange : Resource::kQueue;
  if (auto s = p.check(dest_kind, dest.name, Access::kWrite); !s) return s;
  if (auto s = p.check_namespace(dest_kind, dest.name, NamespaceAction::kBind); !s) return s;
  if (source.empty() || (dest.is_exchange && dest.name.empty())) return default_exchange_refused();
  if (auto s = p.check(Resource::kExchange, source, Access::kRead); !s) return s;
  // A missing source is the vhost's NOT_FOUND, after the permission checks.
  if (const Exchange* x = p.vhost().find_exchange(source))
    return p.check_topic(*x, key, Access::kRead);
  return {};
}
}  // namespace

Status bind(Principal& p, const std::string& source, const Destination& dest,
            const std::string& key, const amqp::FieldTable& args) {
  if (auto s = check_binding(p, source, dest, key); !s) return s;
  return p.vhost().add_binding(source, dest, key, args, p.connection_id());
}

Status unbind(Principal& p, const std::string& source, const Destination& dest,
              const std::string& key, const amqp::FieldTable& args) {
  if (auto s = check_binding(p, source, dest, key); !s) return s;
  return p.vhost().remove_binding(source, dest, key, args, p.connection_id());
}

}  // namespace pulse::broker::ops
