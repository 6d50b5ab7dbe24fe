// /whoami, /owners, /users and /namespaces through PulseApi: who may do what, what the broker
// then holds, and the answers to bad requests.
#include "api_fixture.h"

namespace pulse::api::testing {
namespace {

using nlohmann::json;

class AccountsApiTest : public ApiTest {
 protected:
  AccountsApiTest() {
    make_owner("a@example.com");
    make_owner("b@example.com");
  }
};

TEST_F(AccountsApiTest, WhoamiSaysWhatPulseMakesOfThePrincipal) {
  auto r = call(root, "GET", "/whoami");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.body["admin"], true);
  EXPECT_EQ(r.body["owner"], false);
  make_user(a, "alice");
  r = call(a, "GET", "/whoami");
  EXPECT_EQ(r.body["owner"], true);
  EXPECT_EQ(r.body["admin"], false);
  EXPECT_EQ(r.body["users"], json::array({"alice"}));
  r = call(stranger, "GET", "/whoami");
  EXPECT_EQ(r.body["owner"], false);
  EXPECT_EQ(r.body["admin"], false);
  EXPECT_EQ(call(stranger, "GET", "/users").status, 403u);
}

TEST_F(AccountsApiTest, AnOwnerSignsInAsABrokerUserNamedByItsEmail) {
  EXPECT_TRUE(can_login("a@example.com", "secret1"));
  EXPECT_EQ(auth.find_user("a@example.com")->tags, std::vector<std::string>{"management"});
  EXPECT_TRUE(permissions("a@example.com").empty());

  // Its own record: read and change the password, not the admin flag.
  EXPECT_EQ(call(a, "GET", "/owners/a@example.com").status, 200u);
  auto r = call(a, "PUT", "/owners/a@example.com", R"({"password": "newpass2"})");
  ASSERT_EQ(r.status, 200u) << r.text();
  EXPECT_TRUE(can_login("a@example.com", "newpass2"));
  EXPECT_FALSE(can_login("a@example.com", "secret1"));
  EXPECT_EQ(call(a, "PUT", "/owners/a@example.com", R"({"admin": true})").status, 403u);
  // Nobody else's.
  EXPECT_EQ(call(a, "GET", "/owners").status, 403u);
  EXPECT_EQ(call(a, "GET", "/owners/b@example.com").status, 403u);
  EXPECT_EQ(call(a, "PUT", "/owners/b@example.com", R"({"password": "mine123"})").status, 403u);
  EXPECT_EQ(call(a, "PUT", "/owners/c@example.com", "{}").status, 403u);
  EXPECT_EQ(call(a, "DELETE", "/owners/b@example.com").status, 403u);
  EXPECT_TRUE(can_login("b@example.com", "secret1"));

  r = call(root, "GET", "/owners");
  ASSERT_EQ(r.status, 200u);
  ASSERT_EQ(r.body.size(), 2u);
  EXPECT_EQ(r.body[0]["email"], "a@example.com");
  EXPECT_EQ(r.body[0]["login"], true);
}

TEST_F(AccountsApiTest, OwnersAreDeletedOnlyOnceTheyOwnNoUser) {
  make_user(a, "alice");
  auto r = call(root, "DELETE", "/owners/a@example.com");
  EXPECT_EQ(r.status, 409u);
  EXPECT_NE(reason(r).find("alice"), std::string::npos);
  ASSERT_EQ(call(a, "DELETE", "/users/alice").status, 204u);
  EXPECT_EQ(call(root, "DELETE", "/owners/a@example.com").status, 204u);
  EXPECT_FALSE(has_user("a@example.com"));
  EXPECT_EQ(call(root, "GET", "/owners/a@example.com").status, 404u);
  EXPECT_EQ(call(root, "DELETE", "/owners/a@example.com").status, 404u);
  // Its sign-in went with it: the principal is no owner any more.
  EXPECT_EQ(call(a, "GET", "/users").status, 403u);
}

TEST_F(AccountsApiTest, ABrokerUserMadeOutsidePulseIsNotTakenOverAsALogin) {
  ASSERT_TRUE(admin->put_user("ops@example.com", "opspass1", {"administrator"}).ok());
  auto r = call(root, "PUT", "/owners/ops@example.com", R"({"password": "secret1"})");
  EXPECT_EQ(r.status, 409u) << r.text();
  EXPECT_TRUE(can_login("ops@example.com", "opspass1"));
  EXPECT_EQ(call(root, "GET", "/owners/ops@example.com").status, 404u);  // all or nothing
  // Without a password the existing login acts as the owner.
  ASSERT_EQ(call(root, "PUT", "/owners/ops@example.com", "{}").status, 201u);
  EXPECT_EQ(call({"ops@example.com", {"management"}}, "GET", "/whoami").body["owner"], true);
}

TEST_F(AccountsApiTest, OwnersSeeAndChangeOnlyTheirOwnUsers) {
  make_user(a, "alice");
  make_user(b, "bob");
  struct Case {
    const Principal* who;
    const char* method;
    const char* target;
    const char* body;
    unsigned status;
  };
  const Case cases[] = {
      {&b, "GET", "/users/alice", "", 403},
      {&b, "GET", "/users/alice/queues", "", 403},
      {&b, "PUT", "/users/alice", R"({"password": "stolen1"})", 403},
      {&b, "PUT", "/users/alice", R"({"description": "mine"})", 403},
      {&b, "DELETE", "/users/alice", "", 403},
      {&b, "DELETE", "/users/alice?delete_queues=true", "", 403},
      {&a, "PUT", "/users/carl", R"({"password": "secret1", "owner": "b@example.com"})", 403},
      {&a, "GET", "/users/nobody", "", 404},
      {&a, "GET", "/users/alice", "", 200},
      {&root, "GET", "/users/alice", "", 200},
      {&stranger, "GET", "/users/alice", "", 403},
      {&stranger, "PUT", "/users/dave", R"({"password": "secret1"})", 403},
  };
  for (const auto& c : cases) {
    auto r = call(*c.who, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.who->name << " " << c.method << " " << c.target << ": "
                                  << r.text();
  }
  EXPECT_TRUE(can_login("alice", "secret1"));
  EXPECT_TRUE(has_user("alice"));

  auto list = [&](const Principal& who) {
    std::vector<std::string> out;
    for (const auto& u : call(who, "GET", "/users").body) out.push_back(u["name"]);
    return out;
  };
  EXPECT_EQ(list(a), std::vector<std::string>{"alice"});
  EXPECT_EQ(list(b), std::vector<std::string>{"bob"});
  EXPECT_EQ(list(root), (std::vector<std::string>{"alice", "bob"}));

  // An administrator creates a user for an owner, who then owns it.
  auto r = call(root, "PUT", "/users/carl", R"({"password": "secret1", "owner": "b@example.com"})");
  ASSERT_EQ(r.status, 201u) << r.text();
  EXPECT_EQ(r.body["owners"], json::array({"b@example.com"}));
  EXPECT_EQ(list(b), (std::vector<std::string>{"bob", "carl"}));
  // An administrator that is no owner must say whose user it is.
  r = call(root, "PUT", "/users/dora", R"({"password": "secret1"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(reason(r).find("not a Pulse owner"), std::string::npos) << reason(r);
}

TEST_F(AccountsApiTest, AUsersQueuesComeWithSizesAndBindings) {
  make_user(a, "alice");
  exchange("exchange/alice/x", "topic");
  declare("queue/alice/q");
  declare("queue/bob/q");
  bind("queue/alice/q", "exchange/alice/x", "a.#");
  publish("", "queue/alice/q", "one");
  publish("", "queue/alice/q", "two");
  auto r = call(a, "GET", "/users/alice/queues");
  ASSERT_EQ(r.status, 200u) << r.text();
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0]["name"], "queue/alice/q");
  EXPECT_EQ(r.body[0]["vhost"], "/");
  EXPECT_EQ(r.body[0]["messages"], 2);
  EXPECT_EQ(r.body[0]["bindings"],
            json::array({{{"source", "exchange/alice/x"}, {"routing_key", "a.#"}}}));
  EXPECT_EQ(call(a, "GET", "/users/alice").body["queue_count"], 1);

  // A new password keeps the user, its permissions and its queues.
  ASSERT_EQ(call(a, "PUT", "/users/alice", R"({"password": "newpass2"})").status, 200u);
  EXPECT_TRUE(can_login("alice", "newpass2"));
  EXPECT_FALSE(can_login("alice", "secret1"));
  EXPECT_EQ(permissions("alice").size(), 1u);
  EXPECT_EQ(call(a, "GET", "/users/alice/queues").body.size(), 1u);

  EXPECT_EQ(call(a, "DELETE", "/users/alice?delete_queues=yes").status, 400u);
  ASSERT_EQ(call(a, "DELETE", "/users/alice?delete_queues=true").status, 204u);
  EXPECT_FALSE(has_user("alice"));
  EXPECT_EQ(vh.find_queue("queue/alice/q"), nullptr);
  EXPECT_NE(vh.find_queue("queue/bob/q"), nullptr);
}

TEST_F(AccountsApiTest, BadRequestsAreRefusedWithAClearReason) {
  make_user(a, "alice");
  struct Case {
    const char* method;
    std::string target;
    std::string body;
    unsigned status;
    const char* reason;  // a part of it
  };
  const Case cases[] = {
      {"PUT", "/users/eve", "not json", 400, "not JSON"},
      {"PUT", "/users/eve", "[1]", 400, "JSON object"},
      {"PUT", "/users/eve", R"({"password": 5})", 400, "'password' must be a string"},
      {"PUT", "/users/eve", R"({"pasword": "secret1"})", 400, "unknown field 'pasword'"},
      {"PUT", "/users/eve", "{}", 400, "'password' is missing"},
      {"PUT", "/users/eve", R"({"password": "short"})", 400, "at least 6"},
      {"PUT", "/users/1eve", R"({"password": "secret1"})", 400, "must start with a letter"},
      {"PUT", "/users/guest", R"({"password": "secret1"})", 400, "reserved"},
      {"PUT", "/users/" + std::string(101, 'e'), R"({"password": "secret1"})", 400, "longer"},
      {"PUT", "/users/eve",
       json{{"password", "secret1"}, {"description", std::string(1001, 'd')}}.dump(), 400,
       "'description' is longer than 1000"},
      {"PUT", "/users/eve", R"({"password": "secret1"})" + std::string(70000, ' '), 400,
       "larger than"},
      {"PUT", "/users/alice", "{}", 400, "nothing to change"},
      {"PUT", "/users/alice", R"({"owner": "b@example.com", "password": "secret2"})", 400,
       "cannot be changed"},
      {"PUT", "/users/alice", R"({"password": "x"})", 400, "at least 6"},
      {"PUT", "/owners/a@example.com", R"({"admin": "yes"})", 400, "true or false"},
      {"PUT", "/owners/a@example.com", R"({"password": "short"})", 400, "at least 6"},
      {"POST", "/users", "", 405, "GET"},
      {"PATCH", "/users/alice", "", 405, "GET, PUT, DELETE"},
      {"GET", "/users/alice/bindings", "", 404, "Not Found"},
      {"GET", "/nothing", "", 404, "Not Found"},
      {"GET", "/users/a/b/c", "", 404, "Not Found"},
  };
  for (const auto& c : cases) {
    auto r = call(a, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target.substr(0, 40) << ": " << r.text();
    EXPECT_NE(reason(r).find(c.reason), std::string::npos)
        << c.method << " " << c.target.substr(0, 40) << ": " << r.text();
  }
  EXPECT_TRUE(can_login("alice", "secret1"));
  EXPECT_FALSE(has_user("eve"));
  auto r = call(a, "POST", "/users");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], std::make_pair(std::string("allow"), std::string("GET")));
  r = call(root, "PUT", "/owners/not-an-email", "{}");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body["error"], "bad_request");
}

TEST_F(AccountsApiTest, ClaimsHandOutCredentialsToAdministratorsOnly) {
  const std::string body = R"({"expires": "2027-01-16T08:00:00+00:00", "contact": "ci@x.org"})";
  EXPECT_EQ(call(a, "POST", "/namespaces/ci", body).status, 403u);
  EXPECT_EQ(call(a, "GET", "/namespaces").status, 403u);
  auto r = call(root, "POST", "/namespaces/ci", body);
  ASSERT_EQ(r.status, 201u) << r.text();
  EXPECT_EQ(r.body["username"], "ci-1");
  EXPECT_EQ(r.body["expires"], "2027-01-16T08:00:00Z");
  EXPECT_EQ(r.body["reclaim_at"], "2027-01-15T09:00:00Z");
  const std::string password = r.body["password"];
  EXPECT_TRUE(can_login("ci-1", password));
  EXPECT_EQ(r.body["connection_string"], "amqps://ci-1:" + password + "@localhost:5671/%2F");
  // Claiming again refreshes it: the same credentials, 200.
  r = call(root, "POST", "/namespaces/ci", R"({"expires": "2027-01-17T09:00:00.250+01:00"})");
  ASSERT_EQ(r.status, 200u) << r.text();
  EXPECT_EQ(r.body["password"], password);
  EXPECT_EQ(r.body["expires"], "2027-01-17T08:00:00Z");

  r = call(root, "GET", "/namespaces");
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0]["namespace"], "ci");
  EXPECT_EQ(r.body[0]["current_user"], "ci-1");
  EXPECT_FALSE(r.body[0].contains("password"));
  EXPECT_FALSE(call(root, "GET", "/namespaces/ci").body.contains("password"));

  struct Case {
    std::string body;
    const char* reason;
  };
  const Case bad[] = {
      {"{}", "'expires' is missing"},
      {R"({"expires": "tomorrow"})", "RFC 3339"},
      {R"({"expires": "2027-02-30T00:00:00Z"})", "RFC 3339"},
      {R"({"expires": "2027-01-16T08:00:00"})", "RFC 3339"},
      {R"({"expires": 1800000000})", "must be a string"},
      {R"({"expires": "2026-01-01T00:00:00Z"})", "past"},
      {R"({"expires": "2027-01-16T08:00:00Z", "owner": "x"})", "unknown field"},
  };
  for (const auto& c : bad) {
    r = call(root, "POST", "/namespaces/other", c.body);
    EXPECT_EQ(r.status, 400u) << c.body;
    EXPECT_NE(reason(r).find(c.reason), std::string::npos) << c.body << ": " << r.text();
  }
  EXPECT_EQ(call(root, "POST", "/namespaces/guest", body).status, 400u);
  make_user(a, "alice");
  EXPECT_EQ(call(root, "POST", "/namespaces/alice", body).status, 409u);

  EXPECT_EQ(call(root, "DELETE", "/namespaces/ci").status, 204u);
  EXPECT_FALSE(has_user("ci-1"));
  EXPECT_FALSE(has_user("ci-2"));
  EXPECT_EQ(call(root, "GET", "/namespaces/ci").status, 404u);
  EXPECT_EQ(call(root, "DELETE", "/namespaces/ci").status, 404u);
}

}  // namespace
}  // namespace pulse::api::testing
