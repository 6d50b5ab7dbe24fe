#include "auth/auth_store.h"

#include <gtest/gtest.h>

namespace pulse::auth {
namespace {

class AuthStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store.add_user("alice", "s3cret", {"management"}).ok());
    ASSERT_TRUE(store.add_user("bob", "hunter2", {}).ok());
  }
  AuthStore store;
};

TEST_F(AuthStoreTest, AuthenticateAndTags) {
  const User* u = store.authenticate("alice", "s3cret");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->name, "alice");
  EXPECT_TRUE(u->has_tag("management"));
  EXPECT_FALSE(u->has_tag("administrator"));
  EXPECT_EQ(store.authenticate("alice", "wrong"), nullptr);
  EXPECT_EQ(store.authenticate("carol", "s3cret"), nullptr);
}

TEST_F(AuthStoreTest, AddExistingUserFails) {
  Status s = store.add_user("alice", "x", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 406);
}

TEST_F(AuthStoreTest, PutUserHashImportsRabbitMqHash) {
  ASSERT_TRUE(store
                  .put_user_hash("carol", "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR",
                                 "rabbit_password_hashing_sha256", {"administrator", ""})
                  .ok());
  const User* u = store.authenticate("carol", "test12");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->tags, std::vector<std::string>{"administrator"});
  EXPECT_FALSE(store.put_user_hash("d", "AAAA", "rabbit_password_hashing_sha1", {}).ok());
  EXPECT_FALSE(store.put_user_hash("d", "***", "rabbit_password_hashing_sha256", {}).ok());
}

TEST_F(AuthStoreTest, EmptyHashCannotLogIn) {
  ASSERT_TRUE(store.put_user_hash("svc", "", "rabbit_password_hashing_sha256", {}).ok());
  EXPECT_NE(store.find_user("svc"), nullptr);
  EXPECT_EQ(store.authenticate("svc", ""), nullptr);
  ASSERT_TRUE(store.clear_password("alice").ok());
  EXPECT_EQ(store.authenticate("alice", "s3cret"), nullptr);
  ASSERT_TRUE(store.change_password("alice", "new").ok());
  EXPECT_NE(store.authenticate("alice", "new"), nullptr);
}

TEST_F(AuthStoreTest, PutUserHashKeepsPermissions) {
  ASSERT_TRUE(store.set_permissions("bob", "/", ".*", ".*", ".*").ok());
  ASSERT_TRUE(store.put_user_hash("bob", "", "rabbit_password_hashing_sha256", {}).ok());
  EXPECT_TRUE(store.has_vhost_access("bob", "/"));
}

TEST_F(AuthStoreTest, PermissionRegexSemantics) {
  ASSERT_TRUE(store.set_permissions("alice", "/", "^amq\\.gen.*", ".*", "").ok());
  EXPECT_TRUE(store.has_vhost_access("alice", "/"));
  EXPECT_FALSE(store.has_vhost_access("alice", "other"));
  EXPECT_FALSE(store.has_vhost_access("bob", "/"));

  EXPECT_TRUE(store.check("alice", "/", "amq.gen-JzTY20BRgKO", Access::kConfigure));
  EXPECT_FALSE(store.check("alice", "/", "my.amq.gen", Access::kConfigure));
  EXPECT_FALSE(store.check("alice", "/", "amqXgen", Access::kConfigure));  // escaped dot
  EXPECT_TRUE(store.check("alice", "/", "anything", Access::kWrite));
  // Empty regex is RabbitMQ's "^$": no real resource name matches.
  EXPECT_FALSE(store.check("alice", "/", "anything", Access::kRead));
  EXPECT_FALSE(store.check("alice", "/", "amq.default", Access::kRead));
  // No entry for the vhost or user: denied.
  EXPECT_FALSE(store.check("alice", "other", "x", Access::kWrite));
  EXPECT_FALSE(store.check("nobody", "/", "x", Access::kWrite));
}

TEST_F(AuthStoreTest, PermissionRegexIsUnanchoredSearch) {
  ASSERT_TRUE(store
                  .set_permissions("bob", "/", "foo", "^(queue/bob/.*|exchange/bob/.*)",
                                   "^(queue/bob/.*|exchange/.*)")
                  .ok());
  EXPECT_TRUE(store.check("bob", "/", "xfoox", Access::kConfigure));
  EXPECT_TRUE(store.check("bob", "/", "queue/bob/q1", Access::kWrite));
  EXPECT_FALSE(store.check("bob", "/", "queue/alice/q1", Access::kWrite));
  EXPECT_TRUE(store.check("bob", "/", "exchange/alice/x", Access::kRead));
  EXPECT_FALSE(store.check("bob", "/", "x/exchange/a", Access::kRead));
  EXPECT_EQ(permission_resource_name_for_exchange(""), "amq.default");
  EXPECT_EQ(permission_resource_name_for_exchange("x"), "x");
}

TEST_F(AuthStoreTest, InvalidRegexIsAnErrorAndChangesNothing) {
  ASSERT_TRUE(store.set_permissions("bob", "/", ".*", ".*", ".*").ok());
  Status s = store.set_permissions("bob", "/", "(", ".*", ".*");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().text.find("invalid regular expression '('"), std::string::npos);
  EXPECT_TRUE(store.check("bob", "/", "q", Access::kConfigure));
  EXPECT_FALSE(store.set_permissions("nobody", "/", ".*", ".*", ".*").ok());
}

TEST_F(AuthStoreTest, ClearAndListPermissions) {
  ASSERT_TRUE(store.set_permissions("bob", "/", ".*", ".*", ".*").ok());
  ASSERT_TRUE(store.set_permissions("alice", "v2", "", "w", "r").ok());
  ASSERT_TRUE(store.set_permissions("alice", "/", "c", "", "").ok());
  auto perms = store.permissions();
  ASSERT_EQ(perms.size(), 3u);
  EXPECT_EQ(perms[0].user, "alice");
  EXPECT_EQ(perms[0].vhost, "/");
  EXPECT_EQ(perms[1].vhost, "v2");
  EXPECT_EQ(perms[1].write, "w");
  store.clear_permissions("alice", "v2");
  EXPECT_FALSE(store.has_vhost_access("alice", "v2"));
  store.clear_vhost("/");
  EXPECT_TRUE(store.permissions().empty());
  ASSERT_TRUE(store.delete_user("bob").ok());
  EXPECT_FALSE(store.delete_user("bob").ok());
  auto users = store.users();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]->name, "alice");
}

TEST_F(AuthStoreTest, TopicPermissionsDefaultAllow) {
  EXPECT_TRUE(store.check_topic("alice", "/", "amq.topic", "any.key", Access::kWrite));
  ASSERT_TRUE(store.set_topic_permissions("alice", "/", "amq.topic", "^a\\.", "^r\\.").ok());
  EXPECT_TRUE(store.check_topic("alice", "/", "amq.topic", "a.b", Access::kWrite));
  EXPECT_FALSE(store.check_topic("alice", "/", "amq.topic", "r.b", Access::kWrite));
  EXPECT_TRUE(store.check_topic("alice", "/", "amq.topic", "r.b", Access::kRead));
  // Other exchange, other vhost: no entry, so allowed.
  EXPECT_TRUE(store.check_topic("alice", "/", "other", "r.b", Access::kWrite));
  EXPECT_TRUE(store.check_topic("alice", "v", "amq.topic", "r.b", Access::kWrite));
  EXPECT_FALSE(store.check_topic("alice", "/", "amq.topic", "a.b", Access::kConfigure));
  store.clear_topic_permissions("alice", "/", "amq.topic");
  EXPECT_TRUE(store.check_topic("alice", "/", "amq.topic", "r.b", Access::kWrite));
}

TEST_F(AuthStoreTest, TopicPermissionVariableExpansion) {
  ASSERT_TRUE(store
                  .set_topic_permissions("alice", "prod", "amq.topic", "^{username}\\.{vhost}\\.",
                                         "^x\\.{client_id}$")
                  .ok());
  EXPECT_TRUE(store.check_topic("alice", "prod", "amq.topic", "alice.prod.k", Access::kWrite));
  EXPECT_FALSE(store.check_topic("alice", "prod", "amq.topic", "bob.prod.k", Access::kWrite));
  EXPECT_TRUE(store.check_topic("alice", "prod", "amq.topic", "x.dev42", Access::kRead, "dev42"));
  EXPECT_FALSE(store.check_topic("alice", "prod", "amq.topic", "x.dev42", Access::kRead, "dev43"));
  // Without a client id RabbitMQ leaves "{client_id}" in the pattern, matching it literally.
  EXPECT_FALSE(store.check_topic("alice", "prod", "amq.topic", "x.dev42", Access::kRead));
  EXPECT_TRUE(store.check_topic("alice", "prod", "amq.topic", "x.{client_id}", Access::kRead));
  // Listings show the patterns as set, not expanded.
  auto tps = store.topic_permissions();
  ASSERT_EQ(tps.size(), 1u);
  EXPECT_EQ(tps[0].write, "^{username}\\.{vhost}\\.");
}

TEST_F(AuthStoreTest, EmptyTopicPatternOnlyMatchesEmptyKey) {
  ASSERT_TRUE(store.set_topic_permissions("bob", "/", "t", "", ".*").ok());
  EXPECT_FALSE(store.check_topic("bob", "/", "t", "k", Access::kWrite));
  EXPECT_TRUE(store.check_topic("bob", "/", "t", "", Access::kWrite));  // RabbitMQ's "^$"
  EXPECT_FALSE(store.set_topic_permissions("bob", "/", "t", "[", ".*").ok());
}

TEST(Loopback, Membership) {
  std::vector<std::string> lb{"guest"};
  EXPECT_TRUE(loopback_only("guest", lb));
  EXPECT_FALSE(loopback_only("alice", lb));
  EXPECT_FALSE(loopback_only("guest", {}));
}

}  // namespace
}  // namespace pulse::auth

namespace pulse::auth {
namespace {

// Refusing an unknown or passwordless user must cost what refusing a wrong password costs (one
// salted digest of the default algorithm), or timing would tell which users exist: without the
// dummy hash an unknown user is refused in a map lookup. Counted, not timed, so that a loaded
// machine cannot fail it.
TEST(AuthStoreTiming, UnknownUserCostsAHashLikeAWrongPassword) {
  AuthStore store;
  ASSERT_TRUE(store.add_user("known", "secret", {}).ok());
  ASSERT_TRUE(store.add_user("nopass", "x", {}).ok());
  ASSERT_TRUE(store.clear_password("nopass").ok());
  auto digests_of = [&](std::string_view user) {
    const auto before = salted_digests_computed();
    EXPECT_EQ(store.authenticate(user, "wrong-password"), nullptr) << user;
    return salted_digests_computed() - before;
  };
  // The dummy hash is made on the first refusal of an unknown user, once per process.
  (void)store.authenticate("warm-up", "x");
  EXPECT_EQ(digests_of("known"), 1u);
  EXPECT_EQ(digests_of("unknown-user"), 1u);
  EXPECT_EQ(digests_of("nopass"), 1u);
  const auto before = salted_digests_computed();
  EXPECT_NE(store.authenticate("known", "secret"), nullptr);
  EXPECT_EQ(salted_digests_computed() - before, 1u);
}

}  // namespace
}  // namespace pulse::auth
