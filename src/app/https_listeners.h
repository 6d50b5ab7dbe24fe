#pragma once
// The management API's and rabbitmq_prometheus's HTTPS listeners (management.ssl.*,
// prometheus.ssl.*), and RabbitMQ's rule for their plaintext listeners.
#include <string>
#include <vector>

#include "app/config.h"
#include "app/tls_registry.h"
#include "base/result.h"
#include "http/api.h"
#include "http/http_server.h"

namespace pulse::app {

// Whether a plugin's plaintext listener starts. As rabbit_mgmt_app's get_listeners_config
// (and rabbitmq_prometheus likewise): not when only its .ssl listener is configured, i.e. a
// management.ssl.* key appeared and no management.tcp.* key did.
inline bool plaintext_http_wanted(bool tcp_configured, const Config::HttpsListener& ssl) {
  return tcp_configured || !ssl.configured;
}

// --https-listen HOST:PORT: the management HTTPS listener's address, replacing
// management.ssl.ip/port; the certificate and key still come from management.ssl.certfile and
// .keyfile. An Error when the address is malformed or the files are not configured.
Status apply_https_listen_flag(Config& config, const std::string& flag);

// Loads the contexts of the configured HTTPS listeners (holders "management.ssl" and
// "prometheus.ssl" of `registry`), binds them on `server` (the Prometheus one answers /metrics
// only), records them in `registry` and appends them to `bound` ("https", "https/prometheus",
// as RabbitMQ lists them). An Error names the listener and why it could not start.
Status start_https_listeners(const Config& config, TlsRegistry& registry, http::HttpServer& server,
                             std::vector<http::ListenerInfo>& bound);

// The certificate-expiration health check's view of every TLS listener in `registry`: the
// certificate and CA files read now, as RabbitMQ reads them when asked.
std::vector<http::TlsListenerCertificates> tls_listener_certificates(const TlsRegistry& registry);

}  // namespace pulse::app
