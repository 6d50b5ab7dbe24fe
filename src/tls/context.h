#pragma once
// Server TLS contexts built from ServerTlsOptions, and a holder a listener takes its context
// from at every handshake, so a reload (SIGHUP) changes the certificate for new connections
// while open ones keep the context they started with (each keeps a shared_ptr to it).
// Runs on the event-loop thread: load() and current() are not synchronised.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "base/result.h"
#include "tls/certificate.h"
#include "tls/options.h"

namespace pulse::tls {

using SslContext = boost::asio::ssl::context;

// A TLS 1.2+ server context: certificate chain and key (a password for an encrypted key),
// client verification, versions, ciphers. Errors name the option and file and say why.
Result<std::shared_ptr<SslContext>> make_server_context(const ServerTlsOptions& o);

class ContextHolder {
 public:
  // `name` says which listener in log lines and errors ("ssl_options", "management.ssl").
  ContextHolder(std::string name, ServerTlsOptions options);

  // (Re)reads the certificate, key and CA files. On failure the previous context (if any)
  // stays in use and the Error says why.
  Status load();
  // The context for a new handshake; null before a successful load().
  std::shared_ptr<SslContext> current() const { return current_; }
  const std::string& name() const { return name_; }
  const ServerTlsOptions& options() const { return options_; }
  // The certificates of certfile as last loaded (the leaf first) and of cacertfile.
  const std::vector<CertificateInfo>& certificates() const { return certificates_; }
  const std::vector<CertificateInfo>& ca_certificates() const { return ca_certificates_; }
  // The CRLs of cacertfile as last loaded (what crl_check verifies against).
  const std::vector<CrlInfo>& crls() const { return crls_; }

 private:
  std::string name_;
  ServerTlsOptions options_;
  std::shared_ptr<SslContext> current_;
  std::vector<CertificateInfo> certificates_;
  std::vector<CertificateInfo> ca_certificates_;
  std::vector<CrlInfo> crls_;
};

}  // namespace pulse::tls
