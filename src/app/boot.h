#pragma once
// Start-up steps shared by pulsed and tests: default user/vhost and definitions import.
#include "app/config.h"
#include "app/definitions.h"
#include "auth/auth_store.h"
#include "base/result.h"
#include "broker/broker.h"

namespace pulse::app {

// Creates the default vhost and user (with its permissions) from the config, as RabbitMQ does
// on a fresh node.
Status apply_defaults(const Config& config, broker::Broker& broker, auth::AuthStore& auth);

// Imports vhosts, users, permissions, exchanges, queues and bindings.
Status apply_definitions(const Definitions& defs, broker::Broker& broker, auth::AuthStore& auth);

}  // namespace pulse::app
