#include "app/web_stomp_listeners.h"

#include "base/listen.h"
#include "base/log.h"

namespace pulse::app {

Status start_web_stomp_listeners(const std::optional<Listener>& tcp,
                                 const std::optional<Listener>& ssl, const Config& config,
                                 TlsRegistry& registry, web_stomp::WebStompServer& server,
                                 std::vector<http::ListenerInfo>& bound) {
  if (tcp) {
    auto ep = server.listen(tcp->host.empty() ? "0.0.0.0" : tcp->host, tcp->port);
    if (!ep) return std::move(ep).error();
    const std::string ip = ep->address().to_string();
    spdlog::info("Web-STOMP listening on {} (path {})", format_host_port(ip, ep->port()),
                 server.path());
    bound.push_back({"http/web-stomp", ip, ep->port()});
  }
  if (!ssl) return {};
  auto holder = registry.holder("web_stomp.ssl", config.web_stomp_listeners.ssl);
  if (!holder) return std::move(holder).error();
  auto ep = server.listen_tls(ssl->host.empty() ? "0.0.0.0" : ssl->host, ssl->port, *holder);
  if (!ep) return std::move(ep).error();
  const std::string ip = ep->address().to_string();
  spdlog::info("Web-STOMP over TLS listening on {} (path {})", format_host_port(ip, ep->port()),
               server.path());
  registry.bound("https/web-stomp", ip, ep->port(), *holder);
  bound.push_back({"https/web-stomp", ip, ep->port()});
  return {};
}

}  // namespace pulse::app
