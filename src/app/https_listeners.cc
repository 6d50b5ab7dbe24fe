#include "app/https_listeners.h"

#include "base/log.h"
#include "base/url.h"
#include "tls/certificate.h"

namespace pulse::app {

Status apply_https_listen_flag(Config& config, const std::string& flag) {
  auto l = parse_listener(flag);
  if (!l) return Error{0, "invalid --https-listen '" + flag + "' (expected HOST:PORT)"};
  auto& ssl = config.management_ssl;
  if (ssl.tls.certfile.empty() || ssl.tls.keyfile.empty())
    return Error{0, "--https-listen needs management.ssl.certfile and management.ssl.keyfile"};
  ssl.configured = true;
  ssl.ip = l->host;
  ssl.port = l->port;
  return {};
}

Status start_https_listeners(const Config& config, TlsRegistry& registry, http::HttpServer& server,
                             std::vector<http::ListenerInfo>& bound) {
  struct Spec {
    const Config::HttpsListener& listener;
    const char* holder;
    const char* protocol;
    const char* label;
    bool metrics_only;
  };
  const Spec specs[] = {
      {config.management_ssl, "management.ssl", "https", "management API (HTTPS) ", false},
      {config.prometheus_ssl, "prometheus.ssl", "https/prometheus", "Prometheus metrics (HTTPS) ",
       true}};
  for (const auto& s : specs) {
    if (!s.listener.configured || !s.listener.port) continue;
    auto holder = registry.holder(s.holder, s.listener.tls);
    if (!holder) return std::move(holder).error();
    const std::string host = s.listener.ip.empty() ? "0.0.0.0" : s.listener.ip;
    auto ep =
        server.listen_tls(host, *s.listener.port, *holder, s.metrics_only, s.listener.timeouts);
    if (!ep) return std::move(ep).error();
    std::string ip = ep->address().to_string();
    spdlog::info("{}listening on {}", s.label, format_host_port(ip, ep->port()));
    registry.bound(s.protocol, ip, ep->port(), *holder);
    bound.push_back({s.protocol, ip, ep->port()});
  }
  return {};
}

std::vector<http::TlsListenerCertificates> tls_listener_certificates(const TlsRegistry& registry) {
  std::vector<http::TlsListenerCertificates> out;
  auto read = [](const std::string& path, std::vector<std::chrono::system_clock::time_point>& to,
                 std::string& error) {
    if (path.empty()) return;
    auto certs = tls::read_certificates(path);
    if (!certs) {
      error = certs.error().text;
      return;
    }
    for (const auto& c : *certs) to.push_back(c.not_after);
  };
  for (const auto& l : registry.listeners()) {
    http::TlsListenerCertificates t;
    t.protocol = l.protocol;
    t.interface = l.ip;
    t.port = l.port;
    if (l.holder) {
      t.certfile = l.holder->options().certfile;
      t.cacertfile = l.holder->options().cacertfile;
    }
    read(t.certfile, t.certfile_not_after, t.certfile_error);
    read(t.cacertfile, t.cacertfile_not_after, t.cacertfile_error);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace pulse::app
