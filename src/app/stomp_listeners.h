#pragma once
// STOMP listeners: stomp.listeners.tcp.* (or --stomp-listen) and stomp.listeners.ssl.* with
// ssl_options.* (rabbitmq_stomp uses the broker's TLS options; the context goes through the
// TlsRegistry, so SIGHUP reloads it).
#include <vector>

#include "app/config.h"
#include "app/tls_registry.h"
#include "base/result.h"
#include "http/api.h"
#include "stomp_server/stomp_server.h"

namespace pulse::app {

// Records each bound listener in `bound` as "stomp" / "stomp/ssl" (RabbitMQ's protocol names
// in /api/overview). An Error stops the start: an address that cannot be bound, a bad
// certificate or key.
Status start_stomp_listeners(const std::vector<Listener>& tcp, const std::vector<Listener>& ssl,
                             const Config& config, TlsRegistry& registry,
                             stomp_server::StompServer& server,
                             std::vector<http::ListenerInfo>& bound);

}  // namespace pulse::app
