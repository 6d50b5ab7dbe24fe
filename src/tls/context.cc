#include "tls/context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <openssl/ssl.h>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace pulse::tls {
namespace {

namespace ssl = boost::asio::ssl;

std::string openssl_reason(const boost::system::error_code& ec) {
  const auto code = static_cast<unsigned long>(ec.value());
  if (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) return "the key does not match certfile";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : ec.message();
}

// Checked before OpenSSL reads the file, whose errors for a missing file are vague.
std::string unreadable(const std::string& file) {
  std::ifstream in(file);
  if (in) return {};
  return std::string("cannot read the file (") + std::strerror(errno) + ")";
}

Error option_error(std::string_view option, const std::string& file, const std::string& why) {
  return Error{0, std::string(option) + " '" + file + "': " + why};
}

Status apply_ciphers(SSL_CTX* h, const ServerTlsOptions& o) {
  std::string tls12, tls13;
  for (const auto& c : o.ciphers) {
    std::string& list = c.starts_with("TLS_") ? tls13 : tls12;
    if (!list.empty()) list += ':';
    list += c;
  }
  if (o.ciphers.empty()) tls12 = std::string(kDefaultCiphers);
  // Only TLS 1.3 suites listed: keep the default TLS 1.2 list rather than none.
  if (tls12.empty()) tls12 = std::string(kDefaultCiphers);
  if (SSL_CTX_set_cipher_list(h, tls12.c_str()) != 1) {
    ERR_clear_error();
    return Error{0, "ciphers: OpenSSL knows none of '" + tls12 + "'"};
  }
  if (!tls13.empty() && SSL_CTX_set_ciphersuites(h, tls13.c_str()) != 1) {
    ERR_clear_error();
    return Error{0, "ciphers: OpenSSL knows none of the TLS 1.3 suites '" + tls13 + "'"};
  }
  return {};
}

Status apply_versions(SSL_CTX* h, const ServerTlsOptions& o) {
  bool v12 = o.versions.empty(), v13 = o.versions.empty();
  for (const auto& v : o.versions) {
    (v == "tlsv1.2" ? v12 : v13) = true;
  }
  SSL_CTX_set_min_proto_version(h, v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(h, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  return {};
}

// best_effort: a certificate whose issuer has no CRL in cacertfile passes; any other failure
// (revoked, an expired or badly signed CRL, an unknown CA) still fails the handshake.
int best_effort_verify(int ok, X509_STORE_CTX* store) {
  if (ok == 0 && X509_STORE_CTX_get_error(store) == X509_V_ERR_UNABLE_TO_GET_CRL) {
    // Cleared, or SSL_get_verify_result would report it after a handshake that succeeded and
    // EXTERNAL (which requires X509_V_OK) would refuse the login.
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  return ok;
}

// OpenSSL read the CRLs of cacertfile with its certificates (X509_STORE file loading takes
// both); these flags make verification use them.
void apply_crl_check(SSL_CTX* h, CrlCheck c) {
  unsigned long flags = 0;
  if (c != CrlCheck::kFalse) flags |= X509_V_FLAG_CRL_CHECK;
  if (c == CrlCheck::kTrue || c == CrlCheck::kBestEffort) flags |= X509_V_FLAG_CRL_CHECK_ALL;
  if (flags != 0) X509_STORE_set_flags(SSL_CTX_get_cert_store(h), flags);
}

}  // namespace

Result<std::shared_ptr<SslContext>> make_server_context(const ServerTlsOptions& o) {
  if (o.certfile.empty()) return Error{0, "certfile is required for a TLS listener"};
  if (o.keyfile.empty()) return Error{0, "keyfile is required for a TLS listener"};
  if (o.verify_peer && o.cacertfile.empty()) {
    return Error{0,
                 "verify = verify_peer needs cacertfile (the CAs client certificates are "
                 "checked against)"};
  }
  if (o.fail_if_no_peer_cert && !o.verify_peer) {
    return Error{0, "fail_if_no_peer_cert = true needs verify = verify_peer"};
  }
  auto ctx = std::make_shared<SslContext>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  long flags = SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_ECDH_USE;
  if (o.honor_cipher_order) flags |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (!o.client_renegotiation) flags |= SSL_OP_NO_RENEGOTIATION;
  if (!o.reuse_sessions) flags |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(h, flags);
  if (!o.reuse_sessions) SSL_CTX_set_session_cache_mode(h, SSL_SESS_CACHE_OFF);
  // Resumed sessions with client certificates need an id context.
  static const unsigned char kSidContext[] = "pulsed";
  SSL_CTX_set_session_id_context(h, kSidContext, sizeof kSidContext - 1);
  if (auto s = apply_versions(h, o); !s) return std::move(s).error();
  if (auto s = apply_ciphers(h, o); !s) return std::move(s).error();

  for (auto [option, file] : {std::pair{"certfile", &o.certfile}, std::pair{"keyfile", &o.keyfile},
                              std::pair{"cacertfile", &o.cacertfile}}) {
    if (file->empty()) continue;
    if (auto why = unreadable(*file); !why.empty()) return option_error(option, *file, why);
  }
  boost::system::error_code ec;
  if (!o.password.empty()) {
    ctx->set_password_callback(
        [pw = o.password](std::size_t, ssl::context::password_purpose) { return pw; }, ec);
  }
  ctx->use_certificate_chain_file(o.certfile, ec);
  if (ec) return option_error("certfile", o.certfile, openssl_reason(ec));
  ctx->use_private_key_file(o.keyfile, ssl::context::pem, ec);
  if (ec) return option_error("keyfile", o.keyfile, openssl_reason(ec));
  if (SSL_CTX_check_private_key(h) != 1) {
    ERR_clear_error();
    return option_error("keyfile", o.keyfile, "the key does not match certfile");
  }
  if (!o.cacertfile.empty()) {
    ctx->load_verify_file(o.cacertfile, ec);
    if (ec) return option_error("cacertfile", o.cacertfile, openssl_reason(ec));
    // Tell clients which CAs we accept, so one with several certificates picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.cacertfile.c_str())) {
      SSL_CTX_set_client_CA_list(h, names);
    }
    ERR_clear_error();
  }
  int mode = SSL_VERIFY_NONE;
  if (o.verify_peer) mode = SSL_VERIFY_PEER;
  if (o.fail_if_no_peer_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  apply_crl_check(h, o.crl_check);
  SSL_CTX_set_verify(h, mode, o.crl_check == CrlCheck::kBestEffort ? best_effort_verify : nullptr);
  SSL_CTX_set_verify_depth(h, o.depth);
  return ctx;
}

ContextHolder::ContextHolder(std::string name, ServerTlsOptions options)
    : name_(std::move(name)), options_(std::move(options)) {}

Status ContextHolder::load() {
  auto ctx = make_server_context(options_);
  if (!ctx) return Error{0, name_ + "." + ctx.error().text};
  auto certs = read_certificates(options_.certfile);
  if (!certs) return Error{0, name_ + ".certfile: " + certs.error().text};
  std::vector<CertificateInfo> cas;
  std::vector<CrlInfo> crls;
  if (!options_.cacertfile.empty()) {
    auto c = read_certificates(options_.cacertfile);
    if (!c) return Error{0, name_ + ".cacertfile: " + c.error().text};
    cas = std::move(*c);
    auto r = read_crls(options_.cacertfile);
    if (!r) return Error{0, name_ + ".cacertfile: " + r.error().text};
    crls = std::move(*r);
  }
  current_ = std::move(*ctx);
  certificates_ = std::move(*certs);
  ca_certificates_ = std::move(cas);
  crls_ = std::move(crls);
  return {};
}

}  // namespace pulse::tls
