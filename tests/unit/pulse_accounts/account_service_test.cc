// Owners and Pulse users over the in-process broker: exactly the reference's permissions, the
// naming and password rules, ownership, password changes that keep everything, deletion.
#include "accounts_fixture.h"
#include "pulse/admin/naming.h"

namespace pulse::accounts::testing {
namespace {

const admin::Permissions kAlicePerms{"^(queue/alice/.*|exchange/alice/.*)",
                                     "^(queue/alice/.*|exchange/alice/.*)",
                                     "^(queue/alice/.*|exchange/.*)"};

class UsersTest : public AccountsTest {
 protected:
  UsersTest() {
    EXPECT_TRUE(service->create_owner("a@example.com", "A", false, t0).ok());
    EXPECT_TRUE(service->create_owner("b@example.com", "B", false, t0).ok());
    EXPECT_TRUE(service->create_owner("root@example.com", "Admin", true, t0).ok());
  }
};

TEST_F(UsersTest, CreateUserGrantsExactlyTheReferencePermissionsOnEveryConfiguredVhost) {
  settings.vhosts = {"/", "v2"};
  service = make_service();
  auto u = service->create_user("a@example.com", "alice", "secret1", "CI bot", t0);
  ASSERT_TRUE(u.ok()) << u.error().text;
  EXPECT_EQ(u->owners, std::vector<std::string>{"a@example.com"});
  EXPECT_TRUE(can_login("alice", "secret1"));
  EXPECT_TRUE(auth.find_user("alice")->tags.empty());
  EXPECT_EQ(permissions("alice"), (std::vector<admin::UserPermissions>{
                                      {"/", "alice", kAlicePerms}, {"v2", "alice", kAlicePerms}}));
  EXPECT_TRUE(auth.check("alice", "/", "exchange/alice/x", auth::Access::kConfigure));
  EXPECT_FALSE(auth.check("alice", "/", "exchange/bob/x", auth::Access::kWrite));
  EXPECT_TRUE(auth.check("alice", "/", "exchange/bob/x", auth::Access::kRead));
  EXPECT_FALSE(auth.check("alice", "/", "queue/bob/q", auth::Access::kConfigure));
  // A regex-special name is escaped: "a.b" does not own "exchange/aXb/".
  ASSERT_TRUE(service->create_user("a@example.com", "a.b", "secret1", "", t0).ok());
  EXPECT_TRUE(auth.check("a.b", "/", "exchange/a.b/x", auth::Access::kConfigure));
  EXPECT_FALSE(auth.check("a.b", "/", "exchange/aXb/x", auth::Access::kConfigure));
}

TEST_F(UsersTest, BadNamesPasswordsAndOwnersAreRefusedWithCodes) {
  auto code = [&](const std::string& actor, const std::string& name, const std::string& pw) {
    auto r = service->create_user(actor, name, pw, "", t0);
    return r ? 0 : r.error().code;
  };
  EXPECT_EQ(code("a@example.com", "", "secret1"), kBadRequest);
  EXPECT_EQ(code("a@example.com", "1alice", "secret1"), kBadRequest);
  EXPECT_EQ(code("a@example.com", "al/ice", "secret1"), kBadRequest);
  EXPECT_EQ(code("a@example.com", "guest", "secret1"), kBadRequest);  // reserved
  EXPECT_EQ(code("a@example.com", "alice", "short"), kBadRequest);
  EXPECT_EQ(code("a@example.com", "alice", "nodigits"), kBadRequest);
  EXPECT_EQ(code("a@example.com", "alice", "12345678"), kBadRequest);
  EXPECT_EQ(code("nobody@example.com", "alice", "secret1"), kNotFound);
  EXPECT_FALSE(has_user("alice"));

  ASSERT_EQ(code("a@example.com", "alice", "secret1"), 0);
  EXPECT_EQ(code("b@example.com", "alice", "secret2"), kConflict);
  // A broker user made elsewhere is never taken over.
  ASSERT_TRUE(admin->put_user("carol", "carol-pw1", {"administrator"}).ok());
  EXPECT_EQ(code("a@example.com", "carol", "secret1"), kConflict);
  EXPECT_TRUE(can_login("carol", "carol-pw1"));

  auto bad_owner = service->create_owner("not-an-email", "", false, t0);
  ASSERT_FALSE(bad_owner.ok());
  EXPECT_EQ(bad_owner.error().code, kBadRequest);
  auto again = service->create_owner("a@example.com", "", false, t0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, kConflict);
}

TEST_F(UsersTest, ReservedNamesAreASetting) {
  ASSERT_TRUE(apply_setting(settings, "pulse.accounts.reserved_users", "alice, bob").ok());
  service = make_service();
  auto r = service->create_user("a@example.com", "alice", "secret1", "", t0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kBadRequest);
  EXPECT_NE(r.error().text.find("reserved"), std::string::npos) << r.error().text;
  EXPECT_TRUE(service->create_user("a@example.com", "guest2", "secret1", "", t0).ok());
}

TEST_F(UsersTest, PasswordChangeKeepsPermissionsAndQueues) {
  ASSERT_TRUE(service->create_user("a@example.com", "alice", "secret1", "", t0).ok());
  declare("queue/alice/q", {}, /*durable=*/true);
  to_queue("queue/alice/q", "m");

  ASSERT_TRUE(service->change_password("a@example.com", "alice", "secret2").ok());
  EXPECT_FALSE(can_login("alice", "secret1"));
  EXPECT_TRUE(can_login("alice", "secret2"));
  EXPECT_EQ(permissions("alice"),
            (std::vector<admin::UserPermissions>{{"/", "alice", kAlicePerms}}));
  ASSERT_NE(vh.find_queue("queue/alice/q"), nullptr);
  EXPECT_EQ(vh.find_queue("queue/alice/q")->message_count(), 1u);

  auto weak = service->change_password("a@example.com", "alice", "weak");
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, kBadRequest);
  EXPECT_EQ(weak.error().text.find("weak"), std::string::npos);  // the text never repeats it
  auto other = service->change_password("b@example.com", "alice", "secret3");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, kForbidden);
  EXPECT_TRUE(can_login("alice", "secret2"));
  // An admin owner may.
  ASSERT_TRUE(service->change_password("root@example.com", "alice", "secret4").ok());
  EXPECT_TRUE(can_login("alice", "secret4"));
  auto missing = service->change_password("a@example.com", "nobody", "secret1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, kNotFound);
}

TEST_F(UsersTest, DeleteUserRemovesTheBrokerUserAndOptionallyItsQueues) {
  ASSERT_TRUE(service->create_user("a@example.com", "alice", "secret1", "", t0).ok());
  ASSERT_TRUE(service->create_user("a@example.com", "alfred", "secret1", "", t0).ok());
  declare("queue/alice/q");
  declare("queue/alfred/q");
  declare("queue/alice2/q");

  auto forbidden = service->delete_user("b@example.com", "alice", true);
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, kForbidden);
  EXPECT_TRUE(has_user("alice"));

  ASSERT_TRUE(service->delete_user("a@example.com", "alfred", false).ok());
  EXPECT_FALSE(has_user("alfred"));
  EXPECT_NE(vh.find_queue("queue/alfred/q"), nullptr);

  ASSERT_TRUE(service->delete_user("a@example.com", "alice", true).ok());
  EXPECT_FALSE(has_user("alice"));
  EXPECT_EQ(vh.find_queue("queue/alice/q"), nullptr);
  EXPECT_NE(vh.find_queue("queue/alice2/q"), nullptr);
  EXPECT_FALSE(store.records().contains("user/alice"));

  auto again = service->delete_user("a@example.com", "alice", true);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, kNotFound);
  // The name is free again.
  EXPECT_TRUE(service->create_user("b@example.com", "alice", "secret1", "", t0).ok());
}

TEST_F(UsersTest, UsersOfAnOwnerWithTheirQueues) {
  ASSERT_TRUE(service->create_user("a@example.com", "alice", "secret1", "", t0).ok());
  ASSERT_TRUE(service->create_user("b@example.com", "bob", "secret1", "", t0).ok());
  declare("queue/alice/one");
  declare("queue/alice/two");
  declare("queue/bob/q");
  declare("unnamed");

  auto mine = service->users_of("a@example.com");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].user.name, "alice");
  std::vector<std::string> names;
  for (const auto& q : (*mine)[0].queues) names.push_back(q.name);
  EXPECT_EQ(names, (std::vector<std::string>{"queue/alice/one", "queue/alice/two"}));

  auto all = service->users_of("root@example.com");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto none = service->users_of("nobody@example.com");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, kNotFound);
}

TEST_F(UsersTest, StateSurvivesANewServiceOverTheSameStore) {
  ASSERT_TRUE(service->create_user("a@example.com", "alice", "secret1", "desc", t0).ok());
  auto again = make_service();
  EXPECT_EQ(again->owners().size(), 3u);
  auto mine = again->users_of("a@example.com");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].user, (PulseUser{"alice", {"a@example.com"}, t0, "desc"}));
  auto dup = again->create_user("b@example.com", "alice", "secret1", "", t0);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, kConflict);
}

}  // namespace
}  // namespace pulse::accounts::testing
