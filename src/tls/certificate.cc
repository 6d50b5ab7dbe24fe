#include "tls/certificate.h"

#include <openssl/bio.h>
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

}  // namespace

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
