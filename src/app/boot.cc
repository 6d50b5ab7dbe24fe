#include "app/boot.h"

#include <optional>

#include "base/log.h"
#include "broker/names.h"
#include "broker/queue_args.h"

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

DefinitionsApply::DefinitionsApply(std::shared_ptr<const Definitions> defs, broker::Broker& broker,
                                   auth::AuthStore& auth)
    : defs_(std::move(defs)), broker_(broker), auth_(auth) {}

Result<broker::VHost*> DefinitionsApply::vhost(const std::string& name) {
  if (auto* vh = broker_.find_vhost(name)) return vh;
  return Error{0, "definitions refer to vhost '" + name + "' which is not defined"};
}

Status DefinitionsApply::apply_one() {
  const Definitions& d = *defs_;
  switch (section_) {
    case 0: {
      // An import replaces an existing vhost's metadata, as RabbitMQ's does.
      for (const auto& v : d.vhosts)
        broker_.add_vhost(v.name).set_metadata({v.description, v.tags, v.default_queue_type});
      // An imported cluster_name or internal_cluster_id replaces the node's, as in RabbitMQ.
      for (const auto& p : d.global_parameters) {
        if (auto r = broker_.set_global_parameter(p.name, p.value.dump()); !r)
          return Error{0, "global parameter '" + p.name + "': " + r.error().text};
      }
      return apply_auth(d, auth_);
    }
    // Policies come before exchanges and queues (RabbitMQ's import order), so that what is
    // declared below starts with its policy applied.
    case 1: {
      const auto& p = d.policies[index_];
      auto vh = vhost(p.vhost);
      if (!vh) return std::move(vh).error();
      if (auto s = (*vh)->set_policy(policy_spec(p)); !s) {
        return Error{
            0, "policy '" + p.name + "' in vhost '" + p.vhost + "': " + one_line(s.error().text)};
      }
      return {};
    }
    case 2: {
      const auto& x = d.exchanges[index_];
      auto vh = vhost(x.vhost);
      if (!vh) return std::move(vh).error();
      if (broker::is_builtin_exchange(x.name)) return {};
      broker::ExchangeDeclare decl{x.name,        x.type,     false,      x.durable,
                                   x.auto_delete, x.internal, x.arguments};
      if (auto r = (*vh)->declare_exchange(decl); !r)
        return Error{0, "exchange '" + x.name + "': " + r.error().text};
      return {};
    }
    case 3: {
      const auto& q = d.queues[index_];
      auto vh = vhost(q.vhost);
      if (!vh) return std::move(vh).error();
      broker::QueueDeclare decl;
      decl.name = q.name;
      decl.durable = q.durable;
      decl.auto_delete = q.auto_delete;
      decl.arguments = q.arguments;
      broker::apply_queue_type(decl.arguments, q.type);
      if (auto r = (*vh)->declare_queue(std::move(decl)); !r)
        return Error{0, "queue '" + q.name + "': " + r.error().text};
      return {};
    }
    default: {
      const auto& b = d.bindings[index_];
      auto vh = vhost(b.vhost);
      if (!vh) return std::move(vh).error();
      Status s = b.destination_type == "exchange"
                     ? (*vh)->bind_exchange(b.destination, b.source, b.routing_key, b.arguments)
                     : (*vh)->bind_queue(b.destination, b.source, b.routing_key, b.arguments, 0);
      if (!s)
        return Error{0, "binding " + b.source + " -> " + b.destination + ": " + s.error().text};
      return {};
    }
  }
}

size_t DefinitionsApply::section_size() const {
  const Definitions& d = *defs_;
  switch (section_) {
    case 0:
      return 1;
    case 1:
      return d.policies.size();
    case 2:
      return d.exchanges.size();
    case 3:
      return d.queues.size();
    case 4:
      return d.bindings.size();
    default:
      return 0;
  }
}

Result<bool> DefinitionsApply::step(const std::function<bool()>& keep_going) {
  constexpr int kSections = 5;
  do {
    while (section_ < kSections && index_ >= section_size()) {
      ++section_;
      index_ = 0;
    }
    if (section_ >= kSections) return false;
    if (auto s = apply_one(); !s) return std::move(s).error();
    ++index_;
  } while (keep_going());
  return true;
}

Status apply_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth) {
  // The caller's defs outlive the applier: share them without a copy.
  DefinitionsApply apply(std::shared_ptr<const Definitions>(&defs, [](const Definitions*) {}),
                         broker, auth);
  auto more = apply.step([] { return true; });
  if (!more) return std::move(more).error();
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

Status apply_identity(const Config& config, broker::Broker& broker, store::DefinitionsStore& store,
                      DefinitionsPersister& persister) {
  using broker::GlobalParameters;
  return store.transaction([&]() -> Status {
    // Generated once per data directory (RabbitMQ's format), kept across restarts.
    if (broker.global_parameters().find(GlobalParameters::kInternalClusterId) == nullptr) {
      std::string id = broker.generate_name("rabbitmq-cluster-id-");
      if (auto r = broker.set_global_parameter(GlobalParameters::kInternalClusterId,
                                               nlohmann::json(id).dump());
          !r)
        return std::move(r).error();
    }
    if (config.cluster_name) {
      if (auto r = broker.set_global_parameter(GlobalParameters::kClusterName,
                                               nlohmann::json(*config.cluster_name).dump());
          !r)
        return std::move(r).error();
    }
    if (auto e = persister.take_error()) return std::move(*e);
    return ok_status();
  });
}

Status boot_from_store(store::DefinitionsStore& store, bool fresh, const Config& config,
                       broker::Broker& broker, auth::AuthStore& auth,
                       DefinitionsPersister& persister, persist::QueueStorage* queues) {
  auto sum = recover_definitions(store, broker, auth, queues);
  if (!sum) return std::move(sum).error();
  if (fresh) {
    spdlog::info("initialised a new data directory");
  } else {
    spdlog::info("recovered definitions: {}", sum->text());
  }
  persister.set_queue_storage(queues);
  broker.set_definitions_observer(&persister);
  if (auto s = apply_identity(config, broker, store, persister); !s) return s;
  if (!fresh) return ok_status();
  return persisted(store, auth, persister, [&] { return apply_defaults(config, broker, auth); });
}

Status import_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth,
                          store::DefinitionsStore& store, DefinitionsPersister& persister) {
  return persisted(store, auth, persister, [&] { return apply_definitions(defs, broker, auth); });
}

Result<bool> import_step(DefinitionsApply& apply, const std::function<bool()>& keep_going,
                         const auth::AuthStore& auth, store::DefinitionsStore& store,
                         DefinitionsPersister& persister) {
  bool more = false;
  std::optional<Error> failed;
  auto s = persisted(store, auth, persister, [&]() -> Status {
    // The entries applied before a failing one stay in the broker, so they are committed too:
    // rolling them back would leave them live but gone after a restart.
    auto r = apply.step(keep_going);
    if (r) {
      more = *r;
    } else {
      failed = std::move(r).error();
    }
    return {};
  });
  if (!s) return std::move(s).error();
  if (failed) return std::move(*failed);
  return more;
}

}  // namespace pulse::app
