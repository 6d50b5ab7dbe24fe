#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/confirm_tracker.h"
#include "client/connection.h"
#include "client/options.h"

namespace pulse::client {
namespace {

TEST(Uri, FullForm) {
  auto o = parse_uri(
      "amqp://al%40ice:p%3Ass@broker.example:5673/"
      "pulse%2Ftest?heartbeat=5&frame_max=8192&channel_max=9");
  ASSERT_TRUE(o.ok()) << o.error().text;
  EXPECT_EQ(o->user, "al@ice");
  EXPECT_EQ(o->password, "p:ss");
  EXPECT_EQ(o->host, "broker.example");
  EXPECT_EQ(o->port, 5673);
  EXPECT_EQ(o->vhost, "pulse/test");
  EXPECT_EQ(o->heartbeat, 5);
  EXPECT_EQ(o->frame_max, 8192u);
  EXPECT_EQ(o->channel_max, 9);
}

TEST(Uri, DefaultsAndSlashVhost) {
  auto o = parse_uri("amqp://localhost");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "localhost");
  EXPECT_EQ(o->port, 5672);
  EXPECT_EQ(o->vhost, "/");
  EXPECT_EQ(o->user, "guest");
  EXPECT_FALSE(o->heartbeat.has_value());
  EXPECT_EQ(parse_uri("amqp://h/")->vhost, "/");
  EXPECT_EQ(parse_uri("amqp://h/%2F")->vhost, "/");
  EXPECT_EQ(parse_uri("amqp://u@h")->user, "u");
  EXPECT_EQ(parse_uri("amqp://[::1]:5999")->host, "::1");
  EXPECT_EQ(parse_uri("amqp://[::1]:5999")->port, 5999);
}

TEST(Uri, Errors) {
  EXPECT_FALSE(parse_uri("http://h").ok());
  EXPECT_FALSE(parse_uri("amqp://h:port").ok());
  EXPECT_FALSE(parse_uri("amqp://h:0").ok());
  EXPECT_FALSE(parse_uri("amqp://h/%zz").ok());
  EXPECT_FALSE(parse_uri("amqp://h/%2").ok());
  EXPECT_FALSE(parse_uri("amqp://h?heartbeet=1").ok());
  EXPECT_FALSE(parse_uri("amqp://h?heartbeat=x").ok());
}

TEST(Uri, AmqpsMeansTlsOn5671) {
  auto o = parse_uri("amqps://alice:pw1234@pulse.example/pulse?heartbeat=30");
  ASSERT_TRUE(o.ok()) << o.error().text;
  EXPECT_TRUE(o->tls);
  EXPECT_EQ(o->port, 5671);
  EXPECT_EQ(o->host, "pulse.example");
  EXPECT_EQ(o->user, "alice");
  EXPECT_EQ(o->vhost, "pulse");
  EXPECT_EQ(o->heartbeat, 30);
  auto port = parse_uri("amqps://h:5999");
  ASSERT_TRUE(port.ok());
  EXPECT_TRUE(port->tls);
  EXPECT_EQ(port->port, 5999);
  auto v6 = parse_uri("amqps://[::1]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 5671);
  // The plain scheme never turns TLS on.
  EXPECT_FALSE(parse_uri("amqp://h")->tls);
}

TEST(Uri, TlsKeys) {
  auto o = parse_uri(
      "amqps://h?cacertfile=%2Fetc%2Fca.pem&certfile=/c.pem&keyfile=/c.key"
      "&server_name_indication=pulse.example&auth_mechanism=external");
  ASSERT_TRUE(o.ok()) << o.error().text;
  EXPECT_EQ(o->tls_options.cacertfile, "/etc/ca.pem");
  EXPECT_EQ(o->tls_options.certfile, "/c.pem");
  EXPECT_EQ(o->tls_options.keyfile, "/c.key");
  EXPECT_EQ(o->tls_options.server_name_indication, "pulse.example");
  EXPECT_TRUE(o->tls_options.verify_peer);  // the default
  EXPECT_EQ(o->auth_mechanism, AuthMechanism::kExternal);
  EXPECT_FALSE(parse_uri("amqps://h?verify=verify_none")->tls_options.verify_peer);
  EXPECT_TRUE(parse_uri("amqps://h?verify=verify_peer")->tls_options.verify_peer);
  EXPECT_EQ(parse_uri("amqps://h")->auth_mechanism, AuthMechanism::kPlain);
  EXPECT_EQ(parse_uri("amqp://h?auth_mechanism=plain")->auth_mechanism, AuthMechanism::kPlain);
}

TEST(Uri, TlsKeyErrors) {
  auto plain = parse_uri("amqp://h?cacertfile=/ca.pem");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().text,
            "invalid AMQP URI 'amqp://h?cacertfile=/ca.pem': 'cacertfile' needs amqps://");
  EXPECT_FALSE(parse_uri("amqps://h?verify=yes").ok());
  EXPECT_FALSE(parse_uri("amqps://h?cacertfile=").ok());
  EXPECT_FALSE(parse_uri("amqps://h?auth_mechanism=cram-md5").ok());
  auto half = parse_uri("amqps://h?certfile=/c.pem");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().text.find("certfile and keyfile go together"), std::string::npos);
}

TEST(Uri, SchemeOverridesTheDefaultsTlsAndDefaultPort) {
  ConnectionOptions tls_defaults;
  tls_defaults.tls = true;
  tls_defaults.port = 5671;
  auto plain = parse_uri("amqp://h", tls_defaults);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->port, 5672);
  auto tls = parse_uri("amqps://h", tls_defaults);
  ASSERT_TRUE(tls.ok());
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, 5671);
  // A non-standard default port is kept when the scheme agrees with the defaults.
  ConnectionOptions odd;
  odd.port = 6000;
  EXPECT_EQ(parse_uri("amqp://h", odd)->port, 6000);
  EXPECT_EQ(parse_uri("amqps://h", odd)->port, 5671);
}

TEST(Uri, AmqpsErrors) {
  EXPECT_FALSE(parse_uri("amqps:/h").ok());
  EXPECT_FALSE(parse_uri("amqps//h").ok());
  EXPECT_FALSE(parse_uri("amqps://h:0").ok());
  EXPECT_FALSE(parse_uri("amqps://h:65536").ok());
  auto e = parse_uri("ssl://h");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().text, "invalid AMQP URI 'ssl://h': the scheme must be amqp:// or amqps://");
}

TEST(Connection, TlsCaFileThatCannotBeLoaded) {
  // A listener that never answers: the TCP connect succeeds (backlog), then TLS setup fails on
  // the CA file before any byte is sent, and says so; retrying cannot fix it.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(lfd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto o = parse_uri("amqps://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) +
                     "?cacertfile=/nonexistent/ca.pem");
  ASSERT_TRUE(o.ok()) << o.error().text;
  auto c = Connection::open(*o);
  ::close(lfd);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(
      c.error().text.starts_with("TLS: cannot load CA certificates from '/nonexistent/ca.pem': "))
      << c.error().text;
  EXPECT_TRUE(is_tls_setup_error(c.error()));
  EXPECT_FALSE(is_tls_setup_error(Error{0, "TLS: handshake failed: connection closed by peer"}));
}

TEST(ConfirmTracker, SingleMultipleAndUnknownTags) {
  ConfirmTracker t;
  for (int i = 0; i < 5; ++i) t.add();
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  auto rec = [&](uint64_t a, uint64_t b) { runs.emplace_back(a, b); };
  t.settle(3, false, rec);
  t.settle(3, false, rec);   // twice: ignored
  t.settle(99, false, rec);  // beyond what was published: clamped to 5
  t.settle(4, true, rec);
  EXPECT_EQ(t.outstanding(), 0u);
  using P = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(runs, (std::vector<P>{P{3, 3}, P{5, 5}, P{1, 2}, P{4, 4}}));
  t.settle(2, true, rec);  // all settled already
  EXPECT_EQ(runs.size(), 4u);
  EXPECT_EQ(t.add(), 6u);
}

TEST(ConfirmTracker, NothingPublished) {
  ConfirmTracker t;
  bool called = false;
  t.settle(1, true, [&](uint64_t, uint64_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace pulse::client
