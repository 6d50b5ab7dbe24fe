#pragma once
// Every TLS listener of the process (AMQPS, HTTPS management, HTTPS Prometheus) and its
// context holder: SIGHUP reloads them all, the certificate-expiration health check and the
// expiry warnings in the log read them. Runs on the event-loop thread.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "tls/context.h"

namespace pulse::app {

struct TlsListener {
  std::string protocol;  // as the management API lists it: "amqp/ssl", "https", ...
  std::string ip;
  uint16_t port = 0;
  std::shared_ptr<tls::ContextHolder> holder;
};

class TlsRegistry {
 public:
  // The holder for one options block ("ssl_options", "management.ssl", ...), loaded now;
  // listeners sharing a block share its holder. An Error (start-up) says which file and why.
  Result<std::shared_ptr<tls::ContextHolder>> holder(const std::string& name,
                                                     const tls::ServerTlsOptions& options);
  // Records a bound listener (for the health check and the log).
  void bound(std::string protocol, std::string ip, uint16_t port,
             std::shared_ptr<tls::ContextHolder> holder);

  // Re-reads every holder's files. A holder whose files fail keeps its context; each outcome
  // is logged (the new certificate's serial and expiry, or why the old one stays).
  void reload();
  // Logs a warning for each certificate (listener and CA) that expires within `within`.
  void warn_expiring(std::chrono::seconds within) const;

  const std::vector<TlsListener>& listeners() const { return listeners_; }

 private:
  std::vector<std::shared_ptr<tls::ContextHolder>> holders_;
  std::vector<TlsListener> listeners_;
};

}  // namespace pulse::app
