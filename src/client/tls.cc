// The TLS half of Socket: OpenSSL 3 on the non-blocking fd. SSL_read/SSL_write's WANT_READ /
// WANT_WRITE become "would block" plus the poll event to wait for, so Connection's poll loop
// stays as it is.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/openssl_error.h"
#include "base/url.h"
#include "client/options.h"
#include "client/socket.h"

namespace pulse::client {

namespace {

std::string openssl_reason() {
  return pulse::openssl_reason("");
}

constexpr std::string_view kTlsPrefix = "TLS: ";
constexpr std::string_view kVerifyFailed = "certificate verify failed";
constexpr std::string_view kCannotLoad = "cannot load";

Error tls_error(const std::string& what) {
  return Error{0, std::string(kTlsPrefix) + what};
}

// Why a handshake failed, in the words a user can act on.
Error handshake_error(ssl_st* ssl, int ret, const std::string& peer) {
  const int err = SSL_get_error(ssl, ret);
  const long verify = SSL_get_verify_result(ssl);
  const unsigned long e = ERR_peek_error();
  if (verify != X509_V_OK && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    ERR_clear_error();
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      return tls_error(std::string(kVerifyFailed) + ": " +
                       std::string(X509_verify_cert_error_string(verify)) +
                       " (the server's certificate is not valid for '" + peer + "')");
    }
    return tls_error(std::string(kVerifyFailed) + ": " +
                     std::string(X509_verify_cert_error_string(verify)));
  }
  if (ERR_GET_LIB(e) == ERR_LIB_SSL && (ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER ||
                                        ERR_GET_REASON(e) == SSL_R_PACKET_LENGTH_TOO_LONG ||
                                        ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST)) {
    ERR_clear_error();
    return tls_error("handshake failed: the peer does not speak TLS (a plaintext amqp:// port?)");
  }
  if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && e == 0)) {
    ERR_clear_error();
    return tls_error("handshake failed: connection closed by peer");
  }
  std::string why = openssl_reason();
  if (why.empty() && err == SSL_ERROR_SYSCALL) why = std::strerror(errno);
  return tls_error("handshake failed: " + why);
}

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when the peer has gone
// and kills a program that did not ignore it. This BIO does the I/O on the fd with
// send(MSG_NOSIGNAL) and recv, so a vanished peer is an EPIPE error value, as on plain TCP,
// and no program using the library needs to touch its signal dispositions.
int fd_of(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

int nosig_write(BIO* b, const char* buf, int n) {
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t r = ::send(fd_of(b), buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (r >= 0) return static_cast<int>(r);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
    return -1;
  }
}

int nosig_read(BIO* b, char* buf, int n) {
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t r = ::recv(fd_of(b), buf, static_cast<size_t>(n), 0);
    if (r == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);  // for BIO_eof, as OpenSSL's socket BIO
    if (r >= 0) return static_cast<int>(r);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
    return -1;
  }
}

int nosig_puts(BIO* b, const char* s) {
  return nosig_write(b, s, static_cast<int>(std::strlen(s)));
}

long nosig_ctrl(BIO* b, int cmd, long /*num*/, void* ptr) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:  // nothing is buffered here
    case BIO_CTRL_DUP:
      return 1;
    case BIO_CTRL_EOF:  // a peer that closed without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF)
      return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    case BIO_C_GET_FD:  // SSL_get_fd; the Socket owns and closes the fd
      if (ptr != nullptr) *static_cast<int*>(ptr) = fd_of(b);
      return fd_of(b);
    default:  // everything else (kTLS, DGRAM, ...) unsupported, as OpenSSL expects
      return 0;
  }
}

int nosig_create(BIO* b) {
  BIO_set_data(b, reinterpret_cast<void*>(intptr_t{-1}));
  return 1;
}

// One method table for the process, made on first use (thread-safe static init) and kept
// until exit: BIOs of any number of connections share it.
const BIO_METHOD* nosig_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "pulse socket (MSG_NOSIGNAL)");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, nosig_write);
    BIO_meth_set_read(m, nosig_read);
    BIO_meth_set_puts(m, nosig_puts);
    BIO_meth_set_ctrl(m, nosig_ctrl);
    BIO_meth_set_create(m, nosig_create);
    return m;
  }();
  return method;
}

// A BIO over `fd` (not owned), or null when OpenSSL is out of memory.
BIO* nosig_bio(int fd) {
  const BIO_METHOD* m = nosig_method();
  BIO* b = m != nullptr ? BIO_new(m) : nullptr;
  if (b == nullptr) return nullptr;
  BIO_set_data(b, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(b, 1);
  return b;
}

}  // namespace

bool is_tls_setup_error(const Error& e) {
  std::string_view t = e.text;
  if (e.code != 0 || !t.starts_with(kTlsPrefix)) return false;
  t.remove_prefix(kTlsPrefix.size());
  return t.starts_with(kVerifyFailed) || t.starts_with(kCannotLoad);
}

void Socket::free_tls() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  ssl_ = nullptr;
  ctx_ = nullptr;
}

bool Socket::tls_pending() const {
  return ssl_ != nullptr && SSL_pending(ssl_) > 0;
}

Status Socket::start_tls(const std::string& host, const TlsOptions& o,
                         std::chrono::milliseconds timeout) {
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) return tls_error("cannot create a context: " + openssl_reason());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (o.verify_peer) {
    const bool loaded = o.cacertfile.empty() ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                                             : SSL_CTX_load_verify_locations(
                                                   ctx_, o.cacertfile.c_str(), nullptr) == 1;
    if (!loaded) {
      return tls_error("cannot load CA certificates" +
                       (o.cacertfile.empty() ? std::string() : " from '" + o.cacertfile + "'") +
                       ": " + openssl_reason());
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!o.certfile.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, o.certfile.c_str()) != 1) {
      return tls_error("cannot load certfile '" + o.certfile + "': " + openssl_reason());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx_, o.keyfile.c_str(), SSL_FILETYPE_PEM) != 1) {
      return tls_error("cannot load keyfile '" + o.keyfile + "': " + openssl_reason());
    }
    if (SSL_CTX_check_private_key(ctx_) != 1) {
      return tls_error("keyfile '" + o.keyfile + "' does not match certfile: " + openssl_reason());
    }
  }
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) return tls_error("cannot create a session: " + openssl_reason());
  // Connection's output buffer may grow (and move) between a write that would block and its
  // retry; a partial write is fine because the caller keeps the rest.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A peer that closes without close_notify is "closed by peer", as on plain TCP.
  SSL_set_options(ssl_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  BIO* bio = nosig_bio(fd_);
  if (bio == nullptr) return tls_error("cannot create a BIO: " + openssl_reason());
  SSL_set_bio(ssl_, bio, bio);  // the session owns it (one reference for both directions)
  const bool no_sni = o.server_name_indication == "disable";
  const std::string name =
      o.server_name_indication.empty() || no_sni ? host : o.server_name_indication;
  // RFC 6066: SNI carries host names only, never address literals.
  if (!no_sni && !is_ip_literal(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());
  if (o.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                        : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    if (set != 1) return tls_error("bad server name '" + name + "'");
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_connect(ssl_);
    if (r == 1) break;
    const int err = SSL_get_error(ssl_, r);
    short want = 0;
    if (err == SSL_ERROR_WANT_READ) want = POLLIN;
    if (err == SSL_ERROR_WANT_WRITE) want = POLLOUT;
    if (want == 0) return handshake_error(ssl_, r, name);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return tls_error("handshake timed out");
    pollfd p{fd_, want, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (n < 0 && errno != EINTR) return tls_error(std::string("poll: ") + std::strerror(errno));
  }
  read_wants_ = POLLIN;
  write_wants_ = POLLOUT;
  return {};
}

Result<size_t> Socket::tls_read(void* buf, size_t n) {
  ERR_clear_error();
  size_t got = 0;
  if (SSL_read_ex(ssl_, buf, n, &got) == 1) {
    read_wants_ = POLLIN;
    return got;
  }
  const int err = SSL_get_error(ssl_, 0);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    read_wants_ = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return size_t{0};
  }
  if (err == SSL_ERROR_ZERO_RETURN) return Error{0, "connection closed by peer"};
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    return errno == 0 ? Error{0, "connection closed by peer"}
                      : Error{0, std::string("read: ") + std::strerror(errno)};
  }
  return tls_error("read: " + openssl_reason());
}

Result<size_t> Socket::tls_write(const void* buf, size_t n) {
  ERR_clear_error();
  size_t put = 0;
  if (SSL_write_ex(ssl_, buf, n, &put) == 1) {
    write_wants_ = POLLOUT;
    return put;
  }
  const int err = SSL_get_error(ssl_, 0);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    write_wants_ = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return size_t{0};
  }
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    return Error{0, std::string("write: ") + std::strerror(errno == 0 ? EPIPE : errno)};
  }
  return tls_error("write: " + openssl_reason());
}

}  // namespace pulse::client
