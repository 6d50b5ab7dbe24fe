#include <gtest/gtest.h>

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

TEST(Connection, TlsIsRefusedClearlyBeforeAnyConnect) {
  // No TLS yet: open() must say so instead of speaking plain AMQP to a TLS port. The host does
  // not resolve, so an attempt to connect would fail with a different error.
  auto o = parse_uri("amqps://nowhere.invalid");
  ASSERT_TRUE(o.ok());
  auto c = Connection::open(*o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().text, "amqps:// (TLS) is not supported by this client yet; use amqp://");
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
