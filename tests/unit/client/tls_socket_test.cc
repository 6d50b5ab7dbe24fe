// Socket under TLS against an in-process OpenSSL server over a socketpair: a peer that goes
// away must turn the next writes into an error value, never a SIGPIPE that kills the program.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>

#include "client/options.h"
#include "client/socket.h"

namespace pulse::client {
namespace {

using std::chrono::milliseconds;

// A server context with a throw-away self-signed EC certificate (the client uses verify_none).
SSL_CTX* make_server_ctx() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

// A connected TLS client Socket whose server half has completed the handshake and closed
// its end of the socketpair (without close_notify, as a crashed or killed peer would).
Socket tls_socket_with_a_vanished_peer() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  SSL_CTX* ctx = make_server_ctx();
  std::thread server([ctx, fd = fds[1]] {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    EXPECT_EQ(SSL_accept(ssl), 1);
    SSL_free(ssl);
    ::close(fd);
  });
  Socket s(fds[0]);
  TlsOptions o;
  o.verify_peer = false;
  auto st = s.start_tls("localhost", o, milliseconds(5000));
  server.join();
  SSL_CTX_free(ctx);
  EXPECT_TRUE(st.ok()) << st.error().text;
  return s;
}

TEST(TlsSocket, WriteAfterThePeerClosedIsAnErrorNotSigpipe) {
  // The default disposition, as in a program that never heard of SIGPIPE: before the fix the
  // process died here with "Broken pipe".
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);
  Socket s = tls_socket_with_a_vanished_peer();
  ASSERT_TRUE(s.tls());
  const std::string data(16384, 'x');
  Result<size_t> w = size_t{0};
  for (int i = 0; i < 50 && w.ok(); ++i) w = s.write_some(data.data(), data.size());
  ::sigaction(SIGPIPE, &old, nullptr);
  ASSERT_FALSE(w.ok()) << "writes to a closed peer kept succeeding";
  EXPECT_EQ(w.error().text, "write: Broken pipe");
}

TEST(TlsSocket, ReadAfterThePeerClosedIsClosedByPeer) {
  Socket s = tls_socket_with_a_vanished_peer();
  char buf[64];
  auto ready = s.wait(POLLIN, 5000);
  ASSERT_TRUE(ready.ok());
  auto r = s.read_some(buf, sizeof buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text, "connection closed by peer");
}

}  // namespace
}  // namespace pulse::client
