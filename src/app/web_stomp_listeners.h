#pragma once
// Web-STOMP's own listeners: web_stomp.tcp.* (or --web-stomp-listen) and web_stomp.ssl.* (or
// --web-stomps-listen; the context goes through the TlsRegistry as "web_stomp.ssl", so SIGHUP
// reloads it). `/ws` on the HTTP listeners is the HttpServer's upgrade handler, set in main.
#include <optional>
#include <vector>

#include "app/config.h"
#include "app/tls_registry.h"
#include "base/result.h"
#include "http/api.h"
#include "web_stomp/web_stomp_server.h"

namespace pulse::app {

// `tcp` / `ssl`: the addresses to bind (none when switched off). Records each bound listener in
// `bound` as "http/web-stomp" / "https/web-stomp" (RabbitMQ's protocol names in /api/overview).
// An Error stops the start: an address that cannot be bound, a bad certificate or key.
Status start_web_stomp_listeners(const std::optional<Listener>& tcp,
                                 const std::optional<Listener>& ssl, const Config& config,
                                 TlsRegistry& registry, web_stomp::WebStompServer& server,
                                 std::vector<http::ListenerInfo>& bound);

}  // namespace pulse::app
