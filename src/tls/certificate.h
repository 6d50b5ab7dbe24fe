#pragma once
// Reading certificates: what a PEM file holds (for expiry checks and the log) and who the peer
// of a TLS connection is (for SASL EXTERNAL, as rabbitmq_auth_mechanism_ssl derives it).
#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

using SSL = struct ssl_st;

namespace pulse::tls {

struct CertificateInfo {
  std::string subject;  // RFC 4514 order: "CN=host,O=org"
  std::string issuer;
  std::string serial;  // hex, upper case
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

// Every certificate in a PEM file, in file order (the leaf first in a chain file).
Result<std::vector<CertificateInfo>> read_certificates(const std::string& path);

struct CrlInfo {
  std::string issuer;
  std::chrono::system_clock::time_point next_update;  // epoch when the CRL has none
  int revoked = 0;                                    // certificates it lists
};

// Every CRL ("X509 CRL" block) in a PEM file, in file order; none is not an error.
Result<std::vector<CrlInfo>> read_crls(const std::string& path);

// ssl_cert_login_from: which part of the client certificate names the user.
enum class LoginFrom { kDistinguishedName, kCommonName, kSubjectAltName };

struct CertLoginOptions {
  LoginFrom from = LoginFrom::kDistinguishedName;  // RabbitMQ's default
  // ssl_cert_login_san_type (dns, ip, email, uri, other_name) and _index, for kSubjectAltName.
  std::string san_type = "dns";
  int san_index = 0;
};

// The user name a verified client certificate maps to; an Error (code 0, a reason for the log)
// when there is no peer certificate or it lacks the field.
Result<std::string> peer_login_name(SSL* ssl, const CertLoginOptions& o);

}  // namespace pulse::tls

namespace pulse::tls {

// An established TLS session as RabbitMQ's management API lists it (rabbit_net:ssl_info and
// rabbit_ssl): Erlang's names for the protocol and the cipher suite's parts, and the peer
// certificate's subject, issuer and validity ("2026-01-01T00:00:00Z - 2027-01-01T00:00:00Z").
struct SessionInfo {
  std::string protocol;      // "tlsv1.3", "tlsv1.2"
  std::string cipher;        // "aes_256_gcm", "chacha20_poly1305", ...
  std::string key_exchange;  // "any" (TLS 1.3), "ecdhe_rsa", "ecdhe_ecdsa", ...
  std::string hash;          // "aead", "sha256", ...
  std::string peer_cert_subject, peer_cert_issuer, peer_cert_validity;  // empty: no certificate
};

SessionInfo session_info(SSL* ssl);

}  // namespace pulse::tls
