#include "app/amqps_listeners.h"

#include "base/listen.h"
#include "base/log.h"

namespace pulse::app {

Status start_amqps_listeners(const std::vector<Listener>& listeners, const Config& config,
                             TlsRegistry& registry, server::Server& server,
                             std::vector<http::ListenerInfo>& bound) {
  if (listeners.empty()) return {};
  auto holder = registry.holder("ssl_options", config.ssl_options);
  if (!holder) return std::move(holder).error();
  for (const auto& l : listeners) {
    if (!l.required) {
      if (auto s = ipv6_loopback_available(); !s) {
        spdlog::warn("AMQPS: not listening on {}: IPv6 loopback unavailable ({})",
                     format_host_port(l.host, l.port), s.error().text);
        continue;
      }
    }
    auto ep = server.listen_tls(l.host.empty() ? "0.0.0.0" : l.host, l.port, *holder);
    if (!ep) return std::move(ep).error();
    const std::string ip = ep->address().to_string();
    const auto& leaf = (*holder)->certificates().front();
    spdlog::info("AMQPS (TLS) listening on {} with certificate {} (serial {})",
                 format_host_port(ip, ep->port()), leaf.subject, leaf.serial);
    registry.bound("amqp/ssl", ip, ep->port(), *holder);
    bound.push_back({"amqp/ssl", ip, ep->port()});
  }
  return {};
}

}  // namespace pulse::app
