#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tls/certificate.h"
#include "tls/context.h"
#include "tls/options.h"

namespace pulse::tls {
namespace {

namespace fs = std::filesystem;

// A CA, a server certificate and a client certificate (CN, O and a DNS SAN), made once.
class Certs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("pulse_tls_test." + std::to_string(getpid()));
    fs::create_directories(dir_);
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509" + key +
        " -keyout ca.key -out ca.pem -days 30 -subj /CN=testca"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    leaf("server", "/CN=localhost", "DNS:localhost");
    leaf("client", "/O=pulse/CN=alice", "DNS:alice.example,DNS:second.example");
    leaf("server2", "/CN=localhost", "DNS:localhost");
    leaf("revoked", "/CN=bob", "DNS:bob.example");
    // An intermediate CA and a client certificate it signs, for crl_check = peer vs true.
    run("openssl req" + key + " -keyout inter.key -out inter.csr -subj /CN=interca");
    std::ofstream(dir_ / "inter.ext")
        << "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    run("openssl x509 -req -in inter.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "
        "inter.pem -days 30 -extfile inter.ext");
    leaf("carol", "/CN=carol", "DNS:carol.example", "inter");
    // CRLs as `openssl ca` makes them: ca.pem's revokes revoked.pem, inter.pem's is empty.
    std::ofstream(dir_ / "ca.cnf") << "[ca]\ndefault_ca = d\n[d]\ndatabase = $ENV::DB\n"
                                      "default_md = sha256\ndefault_crl_days = 30\n";
    run("touch ca.db inter.db && DB=ca.db openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem "
        "-revoke revoked.pem && DB=ca.db openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem "
        "-gencrl -out ca.crl && DB=inter.db openssl ca -config ca.cnf -keyfile inter.key -cert "
        "inter.pem -gencrl -out inter.crl");
    run("cat ca.pem ca.crl > ca+crl.pem && cat ca.pem inter.pem inter.crl > ca+inter.pem");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static void run(const std::string& cmd) {
    std::string full = "cd '" + dir_.string() + "' && (" + cmd + ") >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
  }
  static void leaf(const std::string& name, const std::string& subj, const std::string& san,
                   const std::string& ca = "ca") {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj " + subj);
    std::ofstream(dir_ / (name + ".ext")) << "subjectAltName=" << san << "\n";
    run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
        ".key -CAcreateserial -out " + name + ".pem -days 30 -extfile " + name + ".ext");
  }
  static std::string path(const std::string& f) { return (dir_ / f).string(); }
  static ServerTlsOptions server_options() {
    ServerTlsOptions o;
    o.certfile = path("server.pem");
    o.keyfile = path("server.key");
    o.cacertfile = path("ca.pem");
    return o;
  }

  static fs::path dir_;
};
fs::path Certs::dir_;

TEST(TlsOptions, HonouredAndRefusedByName) {
  ServerTlsOptions o;
  EXPECT_EQ(set_option(o, "verify", "verify_peer"), "");
  EXPECT_TRUE(o.verify_peer);
  EXPECT_EQ(set_option(o, "versions.1", "tlsv1.3"), "");
  EXPECT_EQ(o.versions, std::vector<std::string>{"tlsv1.3"});
  EXPECT_EQ(set_option(o, "versions.2", "tlsv1"),
            "tlsv1 is not supported: pulsed speaks TLS 1.2 and 1.3 only");
  EXPECT_EQ(set_option(o, "depth", "-1"), "expected an integer in 0..100");
  EXPECT_EQ(set_option(o, "ciphers.1", "A:B"),
            "expected one cipher suite name in OpenSSL's spelling");
  EXPECT_EQ(set_option(o, "sni", "x"),
            "sni is not supported (pulsed serves one certificate per listener)");
  EXPECT_TRUE(known_option("versions.3"));
  EXPECT_TRUE(known_option("crl_check"));
  EXPECT_EQ(set_option(o, "honor_ecc_order", "true"),
            "honor_ecc_order is not supported (OpenSSL follows the client's curve preference)");
  EXPECT_FALSE(known_option("versions"));
  EXPECT_FALSE(known_option("certfle"));
}

TEST(TlsOptions, CrlCheckTakesErlangsValues) {
  ServerTlsOptions o;
  EXPECT_EQ(o.crl_check, CrlCheck::kFalse);  // Erlang's default
  const std::pair<const char*, CrlCheck> values[] = {{"true", CrlCheck::kTrue},
                                                     {"peer", CrlCheck::kPeer},
                                                     {"best_effort", CrlCheck::kBestEffort},
                                                     {"false", CrlCheck::kFalse}};
  for (auto [text, value] : values) {
    EXPECT_EQ(set_option(o, "crl_check", text), "") << text;
    EXPECT_EQ(o.crl_check, value) << text;
    EXPECT_EQ(crl_check_name(value), text);
  }
  for (const char* bad : {"yes", "TRUE", "", "peer "}) {
    EXPECT_EQ(set_option(o, "crl_check", bad), "expected true, false, peer or best_effort") << bad;
  }
  EXPECT_EQ(o.crl_check, CrlCheck::kFalse);  // a refused value changes nothing
}

TEST_F(Certs, ContextErrorsNameTheOptionAndFile) {
  ServerTlsOptions o = server_options();
  o.keyfile = path("client.key");
  auto r = make_server_context(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text,
            "keyfile '" + path("client.key") + "': the key does not match certfile");
  o = server_options();
  o.certfile = path("missing.pem");
  r = make_server_context(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text, "certfile '" + path("missing.pem") +
                                "': cannot read the file (No such file or directory)");
  o = server_options();
  o.cacertfile.clear();
  o.verify_peer = true;
  EXPECT_FALSE(make_server_context(o).ok());
  o = server_options();
  o.ciphers = {"NO-SUCH-CIPHER"};
  r = make_server_context(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text, "ciphers: OpenSSL knows none of 'NO-SUCH-CIPHER'");
  o = server_options();
  o.certfile = path("server.key");
  r = make_server_context(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text.rfind("certfile '" + path("server.key") + "': ", 0), 0u);
  o = server_options();
  o.crl_check = CrlCheck::kPeer;  // as RabbitMQ: accepted, and nothing is checked
  EXPECT_TRUE(make_server_context(o).ok());
  EXPECT_TRUE(make_server_context(server_options()).ok());
}

TEST_F(Certs, ReadsCertificates) {
  auto certs = read_certificates(path("server.pem"));
  ASSERT_TRUE(certs.ok()) << certs.error().text;
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].subject, "CN=localhost");
  EXPECT_EQ((*certs)[0].issuer, "CN=testca");
  auto left = (*certs)[0].not_after - std::chrono::system_clock::now();
  EXPECT_GT(left, std::chrono::hours(24 * 29));
  EXPECT_LT(left, std::chrono::hours(24 * 31));
  EXPECT_FALSE(read_certificates(path("server.key")).ok());
}

TEST_F(Certs, HolderKeepsTheOldContextWhenAReloadFails) {
  fs::copy_file(path("server.pem"), path("live.pem"), fs::copy_options::overwrite_existing);
  fs::copy_file(path("server.key"), path("live.key"), fs::copy_options::overwrite_existing);
  ServerTlsOptions o = server_options();
  o.certfile = path("live.pem");
  o.keyfile = path("live.key");
  ContextHolder h("ssl_options", o);
  ASSERT_TRUE(h.load().ok());
  auto first = h.current();
  const std::string serial = h.certificates()[0].serial;
  std::ofstream(path("live.pem")) << "garbage\n";
  auto bad = h.load();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().text.rfind("ssl_options.certfile '", 0), 0u) << bad.error().text;
  EXPECT_EQ(h.current(), first);
  EXPECT_EQ(h.certificates()[0].serial, serial);
  fs::copy_file(path("server2.pem"), path("live.pem"), fs::copy_options::overwrite_existing);
  fs::copy_file(path("server2.key"), path("live.key"), fs::copy_options::overwrite_existing);
  ASSERT_TRUE(h.load().ok());
  EXPECT_NE(h.current(), first);
  EXPECT_NE(h.certificates()[0].serial, serial);
}

// Runs a TLS handshake in memory between a client presenting client.pem and the server context.
class Handshake {
 public:
  explicit Handshake(SslContext& server_ctx) {
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    server_ = SSL_new(server_ctx.native_handle());
    client_ = SSL_new(client_ctx_);
    BIO *a = nullptr, *b = nullptr;
    BIO_new_bio_pair(&a, 0, &b, 0);
    SSL_set_bio(server_, a, a);
    SSL_set_bio(client_, b, b);
    SSL_set_accept_state(server_);
    SSL_set_connect_state(client_);
  }
  ~Handshake() {
    SSL_free(client_);
    SSL_free(server_);
    SSL_CTX_free(client_ctx_);
  }
  void client_cert(const std::string& cert, const std::string& key) {
    SSL_use_certificate_file(client_, cert.c_str(), SSL_FILETYPE_PEM);
    SSL_use_PrivateKey_file(client_, key.c_str(), SSL_FILETYPE_PEM);
  }
  bool run() {
    for (int i = 0; i < 20; ++i) {
      int c = SSL_do_handshake(client_);
      int s = SSL_do_handshake(server_);
      if (c == 1 && s == 1) return true;
    }
    ERR_clear_error();
    return false;
  }
  SSL* server() { return server_; }

 private:
  SSL_CTX* client_ctx_;
  SSL* server_;
  SSL* client_;
};

TEST_F(Certs, PeerLoginNameAsRabbitmqAuthMechanismSsl) {
  ServerTlsOptions o = server_options();
  o.verify_peer = true;
  auto ctx = make_server_context(o);
  ASSERT_TRUE(ctx.ok()) << ctx.error().text;
  Handshake hs(**ctx);
  hs.client_cert(path("client.pem"), path("client.key"));
  ASSERT_TRUE(hs.run());
  CertLoginOptions l;
  EXPECT_EQ(*peer_login_name(hs.server(), l), "CN=alice,O=pulse");
  l.from = LoginFrom::kCommonName;
  EXPECT_EQ(*peer_login_name(hs.server(), l), "alice");
  l.from = LoginFrom::kSubjectAltName;
  EXPECT_EQ(*peer_login_name(hs.server(), l), "alice.example");
  l.san_index = 1;
  EXPECT_EQ(*peer_login_name(hs.server(), l), "second.example");
  l.san_type = "email";
  EXPECT_FALSE(peer_login_name(hs.server(), l).ok());
}

TEST_F(Certs, NoPeerCertificateIsAnError) {
  auto ctx = make_server_context(server_options());
  ASSERT_TRUE(ctx.ok());
  Handshake hs(**ctx);
  ASSERT_TRUE(hs.run());
  auto r = peer_login_name(hs.server(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text, "no peer certificate");
}

// The verify result of a handshake by `client` against a verify_peer context with crl_check and
// cacertfile `ca`; X509_V_OK means the handshake succeeded.
long crl_handshake(CrlCheck check, const std::string& ca, const std::string& client) {
  ServerTlsOptions o;
  o.certfile = ca.substr(0, ca.rfind('/') + 1) + "server.pem";
  o.keyfile = ca.substr(0, ca.rfind('/') + 1) + "server.key";
  o.cacertfile = ca;
  o.verify_peer = true;
  o.crl_check = check;
  auto ctx = make_server_context(o);
  EXPECT_TRUE(ctx.ok()) << ctx.error().text;
  if (!ctx.ok()) return -1;
  Handshake hs(**ctx);
  const std::string dir = ca.substr(0, ca.rfind('/') + 1);
  hs.client_cert(dir + client + ".pem", dir + client + ".key");
  const bool ok = hs.run();
  const long v = SSL_get_verify_result(hs.server());
  EXPECT_EQ(ok, v == X509_V_OK) << X509_verify_cert_error_string(v);
  return v;
}

TEST_F(Certs, CrlsAreReadFromCacertfile) {
  // A CA file of a certificate and a CRL: both taken, the certificate list is unchanged.
  auto cas = read_certificates(path("ca+crl.pem"));
  ASSERT_TRUE(cas.ok());
  EXPECT_EQ(cas->size(), 1u);
  auto crls = read_crls(path("ca+crl.pem"));
  ASSERT_TRUE(crls.ok());
  ASSERT_EQ(crls->size(), 1u);
  EXPECT_EQ((*crls)[0].issuer, "CN=testca");
  EXPECT_EQ((*crls)[0].revoked, 1);
  EXPECT_GT((*crls)[0].next_update, std::chrono::system_clock::now());
  EXPECT_TRUE(read_crls(path("ca.pem"))->empty());
  ContextHolder h("ssl_options", server_options());
  ASSERT_TRUE(h.load().ok());
  EXPECT_TRUE(h.crls().empty());
}

TEST_F(Certs, RevokedClientCertificateFailsTheHandshake) {
  for (auto c : {CrlCheck::kTrue, CrlCheck::kPeer, CrlCheck::kBestEffort}) {
    EXPECT_EQ(crl_handshake(c, path("ca+crl.pem"), "revoked"), X509_V_ERR_CERT_REVOKED)
        << crl_check_name(c);
    EXPECT_EQ(crl_handshake(c, path("ca+crl.pem"), "client"), X509_V_OK) << crl_check_name(c);
  }
  EXPECT_EQ(crl_handshake(CrlCheck::kFalse, path("ca+crl.pem"), "revoked"), X509_V_OK);
}

TEST_F(Certs, MissingCrlFailsUnlessBestEffort) {
  EXPECT_EQ(crl_handshake(CrlCheck::kTrue, path("ca.pem"), "client"), X509_V_ERR_UNABLE_TO_GET_CRL);
  EXPECT_EQ(crl_handshake(CrlCheck::kPeer, path("ca.pem"), "client"), X509_V_ERR_UNABLE_TO_GET_CRL);
  // Cleared, not just ignored: EXTERNAL requires X509_V_OK.
  EXPECT_EQ(crl_handshake(CrlCheck::kBestEffort, path("ca.pem"), "client"), X509_V_OK);
  EXPECT_EQ(crl_handshake(CrlCheck::kFalse, path("ca.pem"), "client"), X509_V_OK);
  // best_effort forgives a missing CRL only: a certificate from an unknown CA still fails.
  EXPECT_EQ(crl_handshake(CrlCheck::kBestEffort, path("ca.pem"), "carol"),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(Certs, PeerChecksTheLeafAndTrueTheWholeChain) {
  // ca+inter.pem has the intermediate's CRL (carol not revoked) but none from the root, which
  // issued the intermediate.
  EXPECT_EQ(crl_handshake(CrlCheck::kPeer, path("ca+inter.pem"), "carol"), X509_V_OK);
  EXPECT_EQ(crl_handshake(CrlCheck::kTrue, path("ca+inter.pem"), "carol"),
            X509_V_ERR_UNABLE_TO_GET_CRL);
  EXPECT_EQ(crl_handshake(CrlCheck::kBestEffort, path("ca+inter.pem"), "carol"), X509_V_OK);
}

}  // namespace
}  // namespace pulse::tls
