#pragma once
// AMQPS listeners (listeners.ssl.*, or --amqps-listen) with ssl_options.*: the context is
// loaded once through the TlsRegistry (so SIGHUP reloads it) and shared by every listener.
#include <vector>

#include "app/config.h"
#include "app/tls_registry.h"
#include "base/result.h"
#include "http/api.h"
#include "server/server.h"

namespace pulse::app {

// Binds each listener and records it in the registry and in `bound` (protocol "amqp/ssl", as
// RabbitMQ's /api/overview lists it). An Error stops the start: a bad certificate, key or CA
// file (naming the ssl_options key and the file), or an address that cannot be bound.
Status start_amqps_listeners(const std::vector<Listener>& listeners, const Config& config,
                             TlsRegistry& registry, server::Server& server,
                             std::vector<http::ListenerInfo>& bound);

}  // namespace pulse::app
