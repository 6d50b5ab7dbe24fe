// Namespace claims over the in-process broker: two users with the namespace's permissions,
// hourly rotation with no gap, expiry removing queues, exchanges, users and connections.
#include "accounts_fixture.h"
#include "pulse/admin/naming.h"

namespace pulse::accounts::testing {
namespace {

class ClaimsTest : public AccountsTest {
 protected:
  ClaimsTest() {
    EXPECT_TRUE(
        apply_setting(settings, "pulse.accounts.connection_url", "amqps://pulse.example.com:5671")
            .ok());
    service = make_service();
  }
};

TEST_F(ClaimsTest, ClaimCreatesTwoUsersWithTheNamespacePermissions) {
  auto c = service->claim("tc-queue", t0 + 24h, "ops@example.com", t0);
  ASSERT_TRUE(c.ok()) << c.error().text;
  EXPECT_EQ(c->ns, "tc-queue");
  EXPECT_EQ(c->username, "tc-queue-1");
  EXPECT_EQ(c->password, "generated1x");
  EXPECT_EQ(c->connection_string, "amqps://tc-queue-1:generated1x@pulse.example.com:5671/%2F");
  EXPECT_EQ(c->expires, t0 + 24h);
  EXPECT_EQ(c->reclaim_at, t0 + 1h);
  EXPECT_TRUE(can_login("tc-queue-1", "generated1x"));
  EXPECT_TRUE(can_login("tc-queue-2", "generated2x"));
  const auto p = admin::pulse_namespace_permissions("tc-queue");
  for (const char* u : {"tc-queue-1", "tc-queue-2"}) {
    EXPECT_EQ(permissions(u), (std::vector<admin::UserPermissions>{{"/", u, p}})) << u;
    EXPECT_TRUE(auth.check(u, "/", "exchange/tc-queue/v1/x", auth::Access::kConfigure));
    EXPECT_TRUE(auth.check(u, "/", "queue/tc-queue/q", auth::Access::kWrite));
    EXPECT_FALSE(auth.check(u, "/", "exchange/" + std::string(u) + "/x", auth::Access::kConfigure));
    EXPECT_FALSE(auth.check(u, "/", "queue/other/q", auth::Access::kConfigure));
    EXPECT_TRUE(auth.check(u, "/", "exchange/other/x", auth::Access::kRead));
  }

  // A refresh: new expiry and contact, the same credentials.
  auto again = service->claim("tc-queue", t0 + 48h, "new@example.com", t0 + 10min);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->username, "tc-queue-1");
  EXPECT_EQ(again->password, "generated1x");
  EXPECT_EQ(again->expires, t0 + 48h);
  ASSERT_EQ(service->claims().size(), 1u);
  EXPECT_EQ(service->claims()[0].contact, "new@example.com");

  // A refresh that names no contact keeps it; an empty one clears it.
  ASSERT_TRUE(service->claim("tc-queue", t0 + 72h, std::nullopt, t0 + 20min).ok());
  EXPECT_EQ(service->claims()[0].contact, "new@example.com");
  EXPECT_EQ(service->claims()[0].expires, t0 + 72h);
  ASSERT_TRUE(service->claim("tc-queue", t0 + 72h, "", t0 + 21min).ok());
  EXPECT_EQ(service->claims()[0].contact, "");
}

TEST_F(ClaimsTest, BadOrTakenNamespacesAreRefused) {
  auto code = [&](const std::string& ns, TimePoint expires) {
    auto r = service->claim(ns, expires, "", t0);
    return r ? 0 : r.error().code;
  };
  EXPECT_EQ(code("", t0 + 1h), kBadRequest);
  EXPECT_EQ(code("-x", t0 + 1h), kBadRequest);
  EXPECT_EQ(code("a b", t0 + 1h), kBadRequest);
  EXPECT_EQ(code("pulse", t0 + 1h), kBadRequest);  // reserved: the heartbeat's namespace
  EXPECT_EQ(code("ok", t0), kBadRequest);          // already expired
  ASSERT_TRUE(service->create_owner("a@example.com", "", false, t0).ok());
  ASSERT_TRUE(service->create_user("a@example.com", "alice", "secret1", "", t0).ok());
  EXPECT_EQ(code("alice", t0 + 1h), kConflict);  // a Pulse user's namespace
  ASSERT_TRUE(admin->put_user("ext-2", "whatever1", {}).ok());
  EXPECT_EQ(code("ext", t0 + 1h), kConflict);  // one of its users exists on the broker
  EXPECT_FALSE(has_user("ext-1"));
  ASSERT_EQ(code("ns", t0 + 1h), 0);
  // And a Pulse user may not take a claimed namespace.
  auto u = service->create_user("a@example.com", "ns", "secret1", "", t0);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, kConflict);
}

TEST_F(ClaimsTest, RotationAlternatesUsersWithoutAGap) {
  ASSERT_TRUE(service->claim("ns", t0 + 24h, "", t0).ok());
  connect("c1", "ns-1");  // a client connected with the first credentials

  EXPECT_TRUE(service->rotate(t0 + 59min).done.empty());
  auto r1 = service->rotate(t0 + 1h);
  EXPECT_EQ(r1.done, std::vector<std::string>{"ns"});
  EXPECT_TRUE(r1.errors.empty());
  auto c2 = service->claim("ns", t0 + 24h, "", t0 + 1h);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->username, "ns-2");
  EXPECT_EQ(c2->password, "generated3x");
  EXPECT_EQ(c2->reclaim_at, t0 + 2h);
  EXPECT_TRUE(can_login("ns-2", "generated3x"));
  EXPECT_FALSE(can_login("ns-2", "generated2x"));
  EXPECT_TRUE(can_login("ns-1", "generated1x"));  // the previous credentials still work

  auto r2 = service->rotate(t0 + 2h);
  EXPECT_EQ(r2.done, std::vector<std::string>{"ns"});
  auto c3 = service->claim("ns", t0 + 24h, "", t0 + 2h);
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->username, "ns-1");
  EXPECT_EQ(c3->password, "generated4x");
  EXPECT_FALSE(can_login("ns-1", "generated1x"));
  EXPECT_TRUE(can_login("ns-1", "generated4x"));
  EXPECT_TRUE(can_login("ns-2", "generated3x"));
  // Nobody was disconnected, and the permissions are the namespace's still.
  EXPECT_TRUE(closed.empty());
  EXPECT_EQ(permissions("ns-1"), (std::vector<admin::UserPermissions>{
                                     {"/", "ns-1", admin::pulse_namespace_permissions("ns")}}));

  // Rotation state survives a new service over the same store.
  auto again = make_service();
  auto c4 = again->claim("ns", t0 + 24h, "", t0 + 2h + 1min);
  ASSERT_TRUE(c4.ok());
  EXPECT_EQ(c4->username, "ns-1");
  EXPECT_EQ(c4->password, "generated4x");
  EXPECT_TRUE(again->rotate(t0 + 2h + 59min).done.empty());
  EXPECT_EQ(again->rotate(t0 + 3h).done, std::vector<std::string>{"ns"});
}

TEST_F(ClaimsTest, ExpiredClaimsDoNotRotate) {
  ASSERT_TRUE(service->claim("ns", t0 + 30min, "", t0).ok());
  EXPECT_TRUE(service->rotate(t0 + 1h).done.empty());
  EXPECT_TRUE(can_login("ns-1", "generated1x"));
}

TEST_F(ClaimsTest, ExpiryRemovesQueuesExchangesUsersAndConnections) {
  ASSERT_TRUE(service->claim("ns", t0 + 1h, "", t0).ok());
  ASSERT_TRUE(service->claim("nsx", t0 + 5h, "", t0).ok());
  declare("queue/ns/a", {}, /*durable=*/true);
  declare("queue/ns/b");
  declare("queue/nsx/a");
  declare("queue/ns-1/a");
  exchange("exchange/ns/x", "topic");
  exchange("exchange/ns/v1/y", "topic");
  exchange("exchange/nsx/x", "topic");
  bind("queue/nsx/a", "exchange/ns/x", "#");
  broker::QueueDeclare d;
  d.name = "queue/ns/other-vhost";
  ASSERT_TRUE(broker.find_vhost("v2")->declare_queue(std::move(d)).ok());
  connect("c1", "ns-1");
  connect("c2", "ns-2");
  connect("c3", "nsx-1");

  EXPECT_TRUE(service->expire(t0 + 59min).done.empty());
  EXPECT_NE(vh.find_queue("queue/ns/a"), nullptr);

  auto r = service->expire(t0 + 1h);
  EXPECT_EQ(r.done, std::vector<std::string>{"ns"});
  EXPECT_TRUE(r.errors.empty()) << r.errors[0].text;
  EXPECT_FALSE(has_user("ns-1"));
  EXPECT_FALSE(has_user("ns-2"));
  EXPECT_EQ(vh.find_queue("queue/ns/a"), nullptr);
  EXPECT_EQ(vh.find_queue("queue/ns/b"), nullptr);
  EXPECT_EQ(broker.find_vhost("v2")->find_queue("queue/ns/other-vhost"), nullptr);
  EXPECT_EQ(vh.find_exchange("exchange/ns/x"), nullptr);
  EXPECT_EQ(vh.find_exchange("exchange/ns/v1/y"), nullptr);
  // Another namespace, even one sharing the prefix, is untouched.
  EXPECT_NE(vh.find_queue("queue/nsx/a"), nullptr);
  EXPECT_NE(vh.find_queue("queue/ns-1/a"), nullptr);
  EXPECT_NE(vh.find_exchange("exchange/nsx/x"), nullptr);
  EXPECT_TRUE(has_user("nsx-1"));
  EXPECT_EQ(closed, (std::vector<std::pair<std::string, std::string>>{
                        {"c1", "namespace expired"}, {"c2", "namespace expired"}}));
  EXPECT_FALSE(store.records().contains("claim/ns"));
  ASSERT_EQ(service->claims().size(), 1u);

  // The namespace can be claimed afresh.
  auto fresh = service->claim("ns", t0 + 3h, "", t0 + 2h);
  ASSERT_TRUE(fresh.ok()) << fresh.error().text;
  EXPECT_EQ(fresh->username, "ns-1");
}

TEST(AccountSettings, KeysAreValidated) {
  AccountSettings s;
  EXPECT_TRUE(apply_setting(s, "pulse.accounts.rotation_interval", "600").ok());
  EXPECT_EQ(s.rotation_interval, std::chrono::seconds(600));
  for (const char* bad : {"", "10", "abc", "60s", "9999999"}) {
    auto st = apply_setting(s, "pulse.accounts.rotation_interval", bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().text.find("pulse.accounts.rotation_interval"), std::string::npos);
  }
  EXPECT_EQ(s.rotation_interval, std::chrono::seconds(600));
  EXPECT_TRUE(apply_setting(s, "pulse.accounts.vhosts", "/,v2").ok());
  EXPECT_EQ(s.vhosts, (std::vector<std::string>{"/", "v2"}));
  EXPECT_FALSE(apply_setting(s, "pulse.accounts.vhosts", "").ok());
  EXPECT_TRUE(apply_setting(s, "pulse.accounts.reserved_users", "").ok());
  EXPECT_TRUE(s.reserved_users.empty());
  EXPECT_FALSE(apply_setting(s, "pulse.accounts.connection_url", "http://x").ok());
  EXPECT_FALSE(apply_setting(s, "pulse.accounts.connection_url", "amqp://u:p@x").ok());
  EXPECT_FALSE(apply_setting(s, "pulse.accounts.nope", "1").ok());
}

TEST(AccountSettings, ConnectionStrings) {
  auto cs = [](const std::string& base, const std::string& vhost) {
    auto r = connection_string(base, vhost, "ns-1", "p@ss:w/rd");
    return r ? *r : "error: " + r.error().text;
  };
  EXPECT_EQ(cs("amqps://h:5671", "/"), "amqps://ns-1:p%40ss%3Aw%2Frd@h:5671/%2F");
  EXPECT_EQ(cs("amqp://h/", "pulse"), "amqp://ns-1:p%40ss%3Aw%2Frd@h/pulse");
  EXPECT_EQ(cs("amqps://h/custom?heartbeat=30", "/"),
            "amqps://ns-1:p%40ss%3Aw%2Frd@h/custom?heartbeat=30");
}

}  // namespace
}  // namespace pulse::accounts::testing
