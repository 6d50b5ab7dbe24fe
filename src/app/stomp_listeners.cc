#include "app/stomp_listeners.h"

#include "base/listen.h"
#include "base/log.h"

namespace pulse::app {

Status start_stomp_listeners(const std::vector<Listener>& tcp, const std::vector<Listener>& ssl,
                             const Config& config, TlsRegistry& registry,
                             stomp_server::StompServer& server,
                             std::vector<http::ListenerInfo>& bound) {
  for (const auto& l : tcp) {
    auto ep = server.listen(l.host.empty() ? "0.0.0.0" : l.host, l.port);
    if (!ep) return std::move(ep).error();
    const std::string ip = ep->address().to_string();
    spdlog::info("STOMP listening on {}", format_host_port(ip, ep->port()));
    bound.push_back({"stomp", ip, ep->port()});
  }
  if (ssl.empty()) return {};
  auto holder = registry.holder("ssl_options", config.ssl_options);
  if (!holder) return std::move(holder).error();
  for (const auto& l : ssl) {
    auto ep = server.listen_tls(l.host.empty() ? "0.0.0.0" : l.host, l.port, *holder);
    if (!ep) return std::move(ep).error();
    const std::string ip = ep->address().to_string();
    spdlog::info("STOMP over TLS listening on {}", format_host_port(ip, ep->port()));
    registry.bound("stomp/ssl", ip, ep->port(), *holder);
    bound.push_back({"stomp/ssl", ip, ep->port()});
  }
  return {};
}

}  // namespace pulse::app
