#include "app/boot.h"

#include "base/log.h"

namespace pulse::app {

Status apply_defaults(const Config& config, broker::Broker& broker, auth::AuthStore& auth) {
  broker.add_vhost(config.default_vhost);
  if (!auth.find_user(config.default_user)) {
    if (auto s = auth.add_user(config.default_user, config.default_pass, config.default_user_tags);
        !s)
      return s;
  }
  return auth.set_permissions(config.default_user, config.default_vhost,
                              config.default_permissions_configure,
                              config.default_permissions_write, config.default_permissions_read);
}

namespace {
std::string one_line(std::string s) {
  for (auto pos = s.find('\n'); pos != std::string::npos; pos = s.find('\n', pos))
    s.replace(pos, 1, "; ");
  return s;
}
}  // namespace

broker::PolicySpec policy_spec(const PolicyDef& p) {
  return broker::PolicySpec{p.name, p.pattern, p.apply_to, p.priority, p.definition};
}

Status apply_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth) {
  for (const auto& v : defs.vhosts) broker.add_vhost(v.name);
  if (auto s = apply_auth(defs, auth); !s) return s;
  auto vhost = [&](const std::string& name) -> Result<broker::VHost*> {
    if (auto* vh = broker.find_vhost(name)) return vh;
    return Error{0, "definitions refer to vhost '" + name + "' which is not defined"};
  };
  // Policies come before exchanges and queues (RabbitMQ's import order), so that what is
  // declared below starts with its policy applied.
  for (const auto& p : defs.policies) {
    auto vh = vhost(p.vhost);
    if (!vh) return std::move(vh).error();
    if (auto s = (*vh)->set_policy(policy_spec(p)); !s) {
      return Error{
          0, "policy '" + p.name + "' in vhost '" + p.vhost + "': " + one_line(s.error().text)};
    }
  }
  for (const auto& x : defs.exchanges) {
    auto vh = vhost(x.vhost);
    if (!vh) return std::move(vh).error();
    if (x.name.empty() || x.name.starts_with("amq.")) continue;
    broker::ExchangeDeclare d{x.name,        x.type,     false,      x.durable,
                              x.auto_delete, x.internal, x.arguments};
    if (auto r = (*vh)->declare_exchange(d); !r) {
      return Error{0, "exchange '" + x.name + "': " + r.error().text};
    }
  }
  for (const auto& q : defs.queues) {
    auto vh = vhost(q.vhost);
    if (!vh) return std::move(vh).error();
    broker::QueueDeclare d;
    d.name = q.name;
    d.durable = q.durable;
    d.auto_delete = q.auto_delete;
    d.arguments = q.arguments;
    if (!q.type.empty() && !amqp::find(d.arguments, "x-queue-type")) {
      amqp::set(d.arguments, "x-queue-type", q.type);
    }
    if (auto r = (*vh)->declare_queue(std::move(d)); !r) {
      return Error{0, "queue '" + q.name + "': " + r.error().text};
    }
  }
  for (const auto& b : defs.bindings) {
    auto vh = vhost(b.vhost);
    if (!vh) return std::move(vh).error();
    Status s = b.destination_type == "exchange"
                   ? (*vh)->bind_exchange(b.destination, b.source, b.routing_key, b.arguments)
                   : (*vh)->bind_queue(b.destination, b.source, b.routing_key, b.arguments, 0);
    if (!s) return Error{0, "binding " + b.source + " -> " + b.destination + ": " + s.error().text};
  }
  return {};
}

namespace {
// Runs `apply` in one store transaction, then persists the auth state it produced. Broker
// changes reach the store through the persister (joining the transaction); its first failure
// aborts and rolls everything back.
Status persisted(store::DefinitionsStore& store, const auth::AuthStore& auth,
                 DefinitionsPersister& persister, const std::function<Status()>& apply) {
  return store.transaction([&]() -> Status {
    if (auto s = apply(); !s) return s;
    if (auto e = persister.take_error()) return std::move(*e);
    return persister.persist_all_auth(auth);
  });
}
}  // namespace

Status boot_from_store(store::DefinitionsStore& store, bool fresh, const Config& config,
                       broker::Broker& broker, auth::AuthStore& auth,
                       DefinitionsPersister& persister, QueueStorage* queues) {
  auto sum = recover_definitions(store, broker, auth, queues);
  if (!sum) return std::move(sum).error();
  if (fresh) {
    spdlog::info("initialised a new data directory");
  } else {
    spdlog::info("recovered definitions: {}", sum->text());
  }
  persister.set_queue_storage(queues);
  broker.set_definitions_observer(&persister);
  if (!fresh) return ok_status();
  return persisted(store, auth, persister, [&] { return apply_defaults(config, broker, auth); });
}

Status import_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth,
                          store::DefinitionsStore& store, DefinitionsPersister& persister) {
  return persisted(store, auth, persister, [&] { return apply_definitions(defs, broker, auth); });
}

}  // namespace pulse::app
