#include "tls/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace pulse::tls {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::string name_text(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::chrono::system_clock::time_point to_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string serial_hex(const X509* x) {
  const ASN1_INTEGER* s = X509_get0_serialNumber(x);
  BIGNUM* bn = ASN1_INTEGER_to_BN(s, nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string asn1_text(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

Result<std::string> san_name(X509* cert, const CertLoginOptions& o) {
  int want = -1;
  if (o.san_type == "dns") {
    want = GEN_DNS;
  } else if (o.san_type == "email") {
    want = GEN_EMAIL;
  } else if (o.san_type == "uri") {
    want = GEN_URI;
  } else if (o.san_type == "ip") {
    want = GEN_IPADD;
  } else if (o.san_type == "other_name") {
    want = GEN_OTHERNAME;
  }
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  int seen = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type != want) continue;
    if (seen++ != o.san_index) continue;
    switch (g->type) {
      case GEN_DNS:
      case GEN_EMAIL:
      case GEN_URI:
        return asn1_text(g->d.ia5);
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = g->d.ip;
        char buf[64] = {};
        if (ip->length == 4) {
          std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", ip->data[0], ip->data[1], ip->data[2],
                        ip->data[3]);
          return std::string(buf);
        }
        return Error{0, "IPv6 subject alternative names are not supported for login"};
      }
      case GEN_OTHERNAME:
        if (g->d.otherName->value->type == V_ASN1_UTF8STRING) {
          return asn1_text(g->d.otherName->value->value.utf8string);
        }
        return Error{0, "the otherName subject alternative name is not a UTF-8 string"};
    }
  }
  return Error{0, "the client certificate has no subject alternative name of type " + o.san_type +
                      " at index " + std::to_string(o.san_index)};
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Erlang's ssl names (ssl_cipher_format) for what OpenSSL negotiated.
std::string cipher_name(const SSL_CIPHER* c) {
  switch (SSL_CIPHER_get_cipher_nid(c)) {
    case NID_aes_128_gcm:
      return "aes_128_gcm";
    case NID_aes_256_gcm:
      return "aes_256_gcm";
    case NID_chacha20_poly1305:
      return "chacha20_poly1305";
    case NID_aes_128_ccm:
      return "aes_128_ccm";
    case NID_aes_128_cbc:
      return "aes_128_cbc";
    case NID_aes_256_cbc:
      return "aes_256_cbc";
    default:
      return SSL_CIPHER_get_name(c);
  }
}

std::string key_exchange_name(const SSL_CIPHER* c) {
  const int auth = SSL_CIPHER_get_auth_nid(c);
  const char* by = auth == NID_auth_ecdsa ? "ecdsa" : auth == NID_auth_rsa ? "rsa" : "anon";
  switch (SSL_CIPHER_get_kx_nid(c)) {
    case NID_kx_any:
      return "any";  // TLS 1.3: the suite does not fix the key exchange
    case NID_kx_ecdhe:
      return std::string("ecdhe_") + by;
    case NID_kx_dhe:
      return std::string("dhe_") + by;
    case NID_kx_rsa:
      return "rsa";
    case NID_kx_psk:
      return "psk";
    default:
      return "unknown";
  }
}

std::string hash_name(const SSL_CIPHER* c) {
  if (SSL_CIPHER_is_aead(c)) return "aead";
  switch (SSL_CIPHER_get_digest_nid(c)) {
    case NID_sha1:
      return "sha";
    case NID_sha256:
      return "sha256";
    case NID_sha384:
      return "sha384";
    default:
      return "unknown";
  }
}

}  // namespace

SessionInfo session_info(SSL* ssl) {
  SessionInfo info;
  switch (SSL_version(ssl)) {
    case TLS1_3_VERSION:
      info.protocol = "tlsv1.3";
      break;
    case TLS1_2_VERSION:
      info.protocol = "tlsv1.2";
      break;
    default:
      info.protocol = SSL_get_version(ssl);
  }
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
    info.cipher = cipher_name(c);
    info.key_exchange = key_exchange_name(c);
    info.hash = hash_name(c);
  }
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (cert) {
    info.peer_cert_subject = name_text(X509_get_subject_name(cert.get()));
    info.peer_cert_issuer = name_text(X509_get_issuer_name(cert.get()));
    info.peer_cert_validity = iso_time(to_time(X509_get0_notBefore(cert.get()))) + " - " +
                              iso_time(to_time(X509_get0_notAfter(cert.get())));
  }
  return info;
}

Result<std::vector<CertificateInfo>> read_certificates(const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return Error{0, "cannot read '" + path + "'"};
  std::vector<CertificateInfo> out;
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509, X509Free> x(raw);
    out.push_back({name_text(X509_get_subject_name(raw)), name_text(X509_get_issuer_name(raw)),
                   serial_hex(raw), to_time(X509_get0_notBefore(raw)),
                   to_time(X509_get0_notAfter(raw))});
  }
  if (out.empty()) return Error{0, "no PEM certificate in '" + path + "'"};
  return out;
}

Result<std::vector<CrlInfo>> read_crls(const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return Error{0, "cannot read '" + path + "'"};
  std::vector<CrlInfo> out;
  // PEM_read_bio_X509_CRL skips the certificates between CRLs; it fails at the end of the file.
  while (X509_CRL* raw = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509_CRL, CrlFree> crl(raw);
    const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(raw);
    out.push_back({name_text(X509_CRL_get_issuer(raw)), to_time(X509_CRL_get0_nextUpdate(raw)),
                   revoked != nullptr ? sk_X509_REVOKED_num(revoked) : 0});
  }
  ERR_clear_error();
  return out;
}

Result<std::string> peer_login_name(SSL* ssl, const CertLoginOptions& o) {
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return Error{0, "no peer certificate"};
  switch (o.from) {
    case LoginFrom::kDistinguishedName:
      return name_text(X509_get_subject_name(cert.get()));
    case LoginFrom::kCommonName: {
      const X509_NAME* name = X509_get_subject_name(cert.get());
      int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
      if (i < 0) return Error{0, "the client certificate has no common name"};
      return asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    }
    case LoginFrom::kSubjectAltName:
      return san_name(cert.get(), o);
  }
  return Error{0, "unknown ssl_cert_login_from"};
}

}  // namespace pulse::tls
