#pragma once
// TLS settings of the management API client for https:// URLs and the OpenSSL parts of using them:
// loading the CA bundle and client certificate, SNI and host name verification, and saying why a
// handshake failed. Plain OpenSSL on the handles of Asio's SSL context and stream (http_client.cc),
// so this file stays free of Beast.
#include <string>

#include "base/result.h"

struct ssl_st;
struct ssl_ctx_st;

namespace pulse::mgmt {

// pulsectl's options, which are rabbitmqadmin's --ssl-* options under curl's names.
struct TlsSettings {
  std::string cacert;          // PEM CA bundle; empty: the system's trusted CAs
  std::string cert, key;       // client certificate and its key (PEM), both or neither
  bool skip_hostname = false;  // --ssl-disable-hostname-verification
  bool insecure = false;       // -k: no verification at all (rabbitmqadmin's --ssl-insecure)
};

// Verification mode, CA certificates, client certificate; TLS 1.2 at least. A file that cannot
// be loaded is a kBadSettings error naming the option and OpenSSL's reason.
Status configure_tls_context(ssl_ctx_st* ctx, const TlsSettings& tls);

// SNI (host names only, never address literals) and the name or address the server's
// certificate must match.
Status prepare_tls_session(ssl_st* ssl, const std::string& host, const TlsSettings& tls);

// Why the handshake failed, in words a user can act on: "certificate verify failed: <reason>",
// "... hostname mismatch (the server's certificate is not valid for 'HOST')", "the server does
// not speak TLS (an http:// port?)". `openssl_error` is the packed OpenSSL error of the failed
// operation (0 when the failure was not OpenSSL's).
std::string tls_handshake_failure(ssl_st* ssl, unsigned long openssl_error, const std::string& host,
                                  const std::string& fallback);

}  // namespace pulse::mgmt
