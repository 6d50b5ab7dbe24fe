#pragma once
// A TLS listener's settings under RabbitMQ's names (ssl_options.*, management.ssl.*,
// prometheus.ssl.*): the option part after the prefix, e.g. "certfile" or "versions.1".
// Every option RabbitMQ documents is either honoured or refused by name with the reason.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::tls {

// crl_check as Erlang's ssl: kTrue checks every certificate of the client's chain, kPeer the
// client's own; both fail a certificate whose issuer has no CRL. kBestEffort checks the chain but
// takes a missing CRL as "not revoked". CRLs are read from cacertfile (PEM "X509 CRL" blocks).
enum class CrlCheck { kFalse, kTrue, kPeer, kBestEffort };

struct ServerTlsOptions {
  std::string cacertfile;
  std::string certfile;
  std::string keyfile;
  std::string password;      // for an encrypted keyfile
  bool verify_peer = false;  // verify = verify_peer | verify_none (Erlang's default: none)
  bool fail_if_no_peer_cert = false;
  int depth = 10;  // intermediate CAs allowed in a client's chain (Erlang's default)
  CrlCheck crl_check = CrlCheck::kFalse;  // needs verify_peer
  // versions.N: "tlsv1.2", "tlsv1.3"; empty means both.
  std::vector<std::string> versions;
  // ciphers.N in OpenSSL's names; TLS 1.3 suites (TLS_...) and TLS 1.2 ciphers may be mixed.
  // Empty means kDefaultCiphers (and OpenSSL's TLS 1.3 suites).
  std::vector<std::string> ciphers;
  bool honor_cipher_order = false;
  bool client_renegotiation = true;
  bool reuse_sessions = true;
  bool log_alert = true;

  bool operator==(const ServerTlsOptions&) const = default;
};

// Forward secrecy and AEAD only (Mozilla's "intermediate" TLS 1.2 list without DHE).
inline constexpr std::string_view kDefaultCiphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

// The crl_check value as written in the config ("best_effort").
std::string_view crl_check_name(CrlCheck c);

// True when `option` (the part after the prefix) is an ssl option name RabbitMQ knows, whether or
// not pulsed honours it.
bool known_option(std::string_view option);

// Applies one option; returns an empty string on success, else why the key or value is refused
// (an option RabbitMQ knows that pulsed does not honour says so by name).
std::string set_option(ServerTlsOptions& o, std::string_view option, std::string_view value);

}  // namespace pulse::tls
