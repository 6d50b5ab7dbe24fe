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
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
    leaf("server", "/CN=localhost", "DNS:localhost");
    leaf("client", "/O=pulse/CN=alice", "DNS:alice.example,DNS:second.example");
    leaf("server2", "/CN=localhost", "DNS:localhost");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static void run(const std::string& cmd) {
    std::string full = "cd '" + dir_.string() + "' && " + cmd + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd;
  }
  static void leaf(const std::string& name, const std::string& subj, const std::string& san) {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj " + subj);
    std::ofstream(dir_ / (name + ".ext")) << "subjectAltName=" << san << "\n";
    run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " +
        name + ".pem -days 30 -extfile " + name + ".ext");
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
  EXPECT_FALSE(known_option("versions"));
  EXPECT_FALSE(known_option("certfle"));
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

}  // namespace
}  // namespace pulse::tls
