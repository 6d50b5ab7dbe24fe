#include "pulse/endpoints.h"

#include "pulse/recovery.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pulse {
namespace {

std::vector<std::string> hosts(const std::vector<client::ConnectionOptions>& list) {
  std::vector<std::string> out;
  for (const auto& o : list) out.push_back(o.host + ":" + std::to_string(o.port));
  return out;
}

TEST(UriList, OneUri) {
  auto l = parse_uri_list("amqp://alice:secret1@node1:5673/pulse?heartbeat=10");
  ASSERT_TRUE(l.ok()) << l.error().text;
  ASSERT_EQ(l->size(), 1u);
  const auto& o = l->front();
  EXPECT_EQ(o.host, "node1");
  EXPECT_EQ(o.port, 5673);
  EXPECT_EQ(o.user, "alice");
  EXPECT_EQ(o.password, "secret1");
  EXPECT_EQ(o.vhost, "pulse");
  EXPECT_EQ(o.heartbeat, 10);
  EXPECT_FALSE(o.tls);
}

TEST(UriList, SeparatorsCommaSemicolonAndWhitespaceInOrder) {
  const std::vector<std::string> want = {"n1:5672", "n2:5673", "n3:5672", "n4:5674"};
  for (const char* list : {
           "amqp://n1,amqp://n2:5673,amqp://n3,amqp://n4:5674",
           "amqp://n1;amqp://n2:5673;amqp://n3;amqp://n4:5674",  // kombu's failover form
           "amqp://n1 amqp://n2:5673\tamqp://n3\namqp://n4:5674",
           " ;amqp://n1, amqp://n2:5673 ;; amqp://n3,,\r\namqp://n4:5674 ,",
       }) {
    auto l = parse_uri_list(list);
    ASSERT_TRUE(l.ok()) << list << ": " << l.error().text;
    EXPECT_EQ(hosts(*l), want) << list;
  }
}

TEST(UriList, EmptyListIsAnError) {
  for (const char* list : {"", " ", ",;, \t\n"}) {
    auto l = parse_uri_list(list);
    ASSERT_FALSE(l.ok()) << "'" << list << "'";
    EXPECT_EQ(l.error().text, "no AMQP URI given");
  }
}

TEST(UriList, OneBadPartFailsTheWholeListAndIsNamed) {
  auto l = parse_uri_list("amqp://good:5672,amqp://bad:notaport,amqp://also-good");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().text.find("'amqp://bad:notaport'"), std::string::npos) << l.error().text;
  auto scheme = parse_uri_list("amqp://a;http://b");
  ASSERT_FALSE(scheme.ok());
  EXPECT_NE(scheme.error().text.find("'http://b'"), std::string::npos) << scheme.error().text;
}

TEST(UriList, AmqpsPartsAreParsedWithTlsAnd5671) {
  auto l = parse_uri_list("amqps://n1,amqp://n2,amqps://n3:5999");
  ASSERT_TRUE(l.ok()) << l.error().text;
  ASSERT_EQ(l->size(), 3u);
  EXPECT_TRUE((*l)[0].tls);
  EXPECT_EQ((*l)[0].port, 5671);
  EXPECT_FALSE((*l)[1].tls);
  EXPECT_EQ((*l)[1].port, 5672);
  EXPECT_TRUE((*l)[2].tls);
  EXPECT_EQ((*l)[2].port, 5999);
}

TEST(UriList, DefaultsFillWhatEachUriOmits) {
  client::ConnectionOptions d;
  d.user = "svc";
  d.password = "pw1234";
  d.vhost = "pulse";
  d.heartbeat = 7;
  auto l = parse_uri_list("amqp://n1 amqp://other:pw@n2/", d);
  ASSERT_TRUE(l.ok()) << l.error().text;
  EXPECT_EQ((*l)[0].user, "svc");
  EXPECT_EQ((*l)[0].password, "pw1234");
  EXPECT_EQ((*l)[0].vhost, "pulse");
  EXPECT_EQ((*l)[0].heartbeat, 7);
  EXPECT_EQ((*l)[1].user, "other");
  EXPECT_EQ((*l)[1].password, "pw");
  EXPECT_EQ((*l)[1].heartbeat, 7);
}

TEST(PulseServiceDefaults, MozillapulseDefaults) {
  const auto d = pulse_service_defaults();
  EXPECT_EQ(d.host, "pulse.mozilla.org");
  EXPECT_EQ(d.port, 5671);
  EXPECT_EQ(d.vhost, "/");
  EXPECT_TRUE(d.tls);
  // The plain client's own defaults stay local and clear.
  const client::ConnectionOptions plain;
  EXPECT_EQ(plain.host, "127.0.0.1");
  EXPECT_EQ(plain.port, 5672);
  EXPECT_FALSE(plain.tls);
}

TEST(PulseServiceDefaults, SchemeDecidesTlsAndDefaultPort) {
  const auto d = pulse_service_defaults();
  // amqp:// over TLS defaults means plain AMQP on 5672 (as mozillapulse's ssl=False did).
  auto plain = parse_uri_list("amqp://alice:pw1234@", d);
  ASSERT_TRUE(plain.ok()) << plain.error().text;
  EXPECT_EQ((*plain)[0].host, "pulse.mozilla.org");
  EXPECT_EQ((*plain)[0].port, 5672);
  EXPECT_FALSE((*plain)[0].tls);
  EXPECT_EQ((*plain)[0].user, "alice");
  auto local = parse_uri_list("amqp://localhost", d);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(hosts(*local), std::vector<std::string>{"localhost:5672"});
  EXPECT_FALSE((*local)[0].tls);
  auto tls = parse_uri_list("amqps://", d);
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(hosts(*tls), std::vector<std::string>{"pulse.mozilla.org:5671"});
  EXPECT_TRUE((*tls)[0].tls);
  auto explicit_port = parse_uri_list("amqp://h:5671 amqps://h:5672", d);
  ASSERT_TRUE(explicit_port.ok());
  EXPECT_EQ(hosts(*explicit_port), (std::vector<std::string>{"h:5671", "h:5672"}));
  EXPECT_FALSE((*explicit_port)[0].tls);
  EXPECT_TRUE((*explicit_port)[1].tls);
}

TEST(UriList, ABareHostIsTlsOn5671AsMozillapulse) {
  auto l = parse_uri_list("pulse.mozilla.org alice:pw1234@node2 node3:5999/v?heartbeat=9");
  ASSERT_TRUE(l.ok()) << l.error().text;
  EXPECT_EQ(hosts(*l),
            (std::vector<std::string>{"pulse.mozilla.org:5671", "node2:5671", "node3:5999"}));
  for (const auto& o : *l) EXPECT_TRUE(o.tls) << o.host;
  EXPECT_EQ((*l)[1].user, "alice");
  EXPECT_EQ((*l)[1].password, "pw1234");
  EXPECT_EQ((*l)[2].vhost, "v");
  EXPECT_EQ((*l)[2].heartbeat, 9);
  // TLS keys apply to a bare host too; a bad part is named as it was read.
  auto ca = parse_uri_list("localhost?cacertfile=/etc/ca.pem");
  ASSERT_TRUE(ca.ok()) << ca.error().text;
  EXPECT_EQ((*ca)[0].tls_options.cacertfile, "/etc/ca.pem");
  auto bad = parse_uri_list("node:notaport");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().text, "invalid AMQP URI 'amqps://node:notaport': bad port 'notaport'");
}

TEST(UriList, AmqpSchemeIsUnchangedBesideBareHosts) {
  auto l = parse_uri_list("amqp://localhost,localhost,amqp://guest:guest@127.0.0.1:5672/");
  ASSERT_TRUE(l.ok()) << l.error().text;
  EXPECT_EQ(hosts(*l),
            (std::vector<std::string>{"localhost:5672", "localhost:5671", "127.0.0.1:5672"}));
  EXPECT_FALSE((*l)[0].tls);
  EXPECT_TRUE((*l)[1].tls);
  EXPECT_FALSE((*l)[2].tls);
}

TEST(PulseServiceDefaults, AreTheEndpointOfDefaultRecoveryOptions) {
  const RecoveryOptions r;
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].host, "pulse.mozilla.org");
  EXPECT_EQ(r.endpoints[0].port, 5671);
  EXPECT_TRUE(r.endpoints[0].tls);
  EXPECT_TRUE(r.endpoints[0].tls_options.verify_peer);
  EXPECT_TRUE(r.endpoints[0].tls_options.cacertfile.empty());  // the system's CAs
}

}  // namespace
}  // namespace pulse
