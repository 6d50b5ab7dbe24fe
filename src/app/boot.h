#pragma once
// Start-up steps shared by pulsed and tests: default user/vhost and definitions import.
#include <functional>
#include <memory>

#include "app/config.h"
#include "app/persistence.h"
#include "auth/auth_store.h"
#include "base/result.h"
#include "broker/broker.h"
#include "definitions/apply.h"
#include "definitions/model.h"
#include "store/definitions_store.h"

namespace pulse::app {

// Creates the default vhost and user (with its permissions) from the config, as RabbitMQ does
// on a fresh node.
Status apply_defaults(const Config& config, broker::Broker& broker, auth::AuthStore& auth);

// The node's identity global parameters, persisted: an internal_cluster_id when the data
// directory has none yet, and the config's cluster_name (replacing a stored one, as RabbitMQ).
// `persister` must already observe `broker`. Part of boot_from_store.
Status apply_identity(const Config& config, broker::Broker& broker, store::DefinitionsStore& store,
                      DefinitionsPersister& persister);

// Start-up against the data directory's definitions: recovers them into `broker` and `auth`,
// attaches `persister` to the broker so later changes are written through, and, on a data
// directory created by this start (`fresh`), creates and persists the config defaults, as
// RabbitMQ does only on a blank node. Logs a one-line summary. With `queues`, durable queues
// recover their messages and new ones get message stores.
Status boot_from_store(store::DefinitionsStore& store, bool fresh, const Config& config,
                       broker::Broker& broker, auth::AuthStore& auth,
                       DefinitionsPersister& persister, persist::QueueStorage* queues = nullptr);

// definitions::apply_definitions with everything it creates persisted, in one transaction (one
// fsync for the whole file): pulsed's --definitions. `persister` must already observe `broker`.
Status import_definitions(const definitions::Definitions& defs, broker::Broker& broker,
                          auth::AuthStore& auth, store::DefinitionsStore& store,
                          DefinitionsPersister& persister);
// One slice of such an import (POST /api/definitions): DefinitionsApply::step in one
// transaction.
Result<bool> import_step(definitions::DefinitionsApply& apply,
                         const std::function<bool()>& keep_going, const auth::AuthStore& auth,
                         store::DefinitionsStore& store, DefinitionsPersister& persister);

}  // namespace pulse::app
