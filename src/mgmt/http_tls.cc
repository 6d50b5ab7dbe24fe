#include "mgmt/http_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/openssl_error.h"
#include "base/url.h"
#include "mgmt/errors.h"

namespace pulse::mgmt {

namespace {

Error load_error(const std::string& option, const std::string& file, const std::string& what) {
  return Error{kBadSettings, option + " " + file + ": " + what + ": " + openssl_reason()};
}

}  // namespace

Status configure_tls_context(ssl_ctx_st* ctx, const TlsSettings& tls) {
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (tls.cert.empty() != tls.key.empty()) {
    return Error{kBadSettings, "--cert and --key go together"};
  }
  if (!tls.insecure) {
    if (tls.cacert.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return Error{kBadSettings, "cannot load the system's CA certificates: " + openssl_reason()};
      }
    } else if (SSL_CTX_load_verify_locations(ctx, tls.cacert.c_str(), nullptr) != 1) {
      return load_error("--cacert", tls.cacert, "cannot load CA certificates");
    }
  }
  SSL_CTX_set_verify(ctx, tls.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (!tls.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert.c_str()) != 1) {
      return load_error("--cert", tls.cert, "cannot load the certificate");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return load_error("--key", tls.key, "cannot load the key");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return load_error("--key", tls.key, "does not match --cert");
    }
  }
  return {};
}

Status prepare_tls_session(ssl_st* ssl, const std::string& host, const TlsSettings& tls) {
  const bool ip = is_ip_literal(host);
  // RFC 6066: SNI carries host names only.
  if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return Error{kBadSettings, "bad host name '" + host + "' for TLS"};
  }
  if (tls.insecure || tls.skip_hostname) return {};
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (set != 1) return Error{kBadSettings, "bad host name '" + host + "' for TLS"};
  return {};
}

std::string tls_handshake_failure(ssl_st* ssl, unsigned long openssl_error, const std::string& host,
                                  const std::string& fallback) {
  const int reason = ERR_GET_REASON(openssl_error);
  const long verify = SSL_get_verify_result(ssl);
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
    std::string text =
        "certificate verify failed: " + std::string(X509_verify_cert_error_string(verify));
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      return text + " (the server's certificate is not valid for '" + host + "')";
    }
    return text + " (--cacert names the CA that signed the server's certificate)";
  }
  if (ERR_GET_LIB(openssl_error) == ERR_LIB_SSL &&
      (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
       reason == SSL_R_HTTP_REQUEST)) {
    return "handshake failed: the server does not speak TLS (an http:// port?)";
  }
  return "handshake failed: " + fallback;
}

}  // namespace pulse::mgmt
