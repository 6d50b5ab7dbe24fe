#include "app/boot.h"

#include <optional>

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

Status import_definitions(const definitions::Definitions& defs, broker::Broker& broker,
                          auth::AuthStore& auth, store::DefinitionsStore& store,
                          DefinitionsPersister& persister) {
  return persisted(store, auth, persister,
                   [&] { return definitions::apply_definitions(defs, broker, auth); });
}

Result<bool> import_step(definitions::DefinitionsApply& apply,
                         const std::function<bool()>& keep_going, const auth::AuthStore& auth,
                         store::DefinitionsStore& store, DefinitionsPersister& persister) {
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
