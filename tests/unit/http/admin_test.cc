// The administrators' controllers: vhosts, users, permissions and topic permissions
// (test_http_resources.py, test_http_vhosts.py, test_http_body_errors.py).
#include "api_fixture.h"

namespace pulse::http::testing {
namespace {

using HttpAdminTest = ApiTest;

json full_permissions(const std::string& user, const std::string& vhost) {
  return {{"user", user}, {"vhost", vhost}, {"configure", ".*"}, {"write", ".*"}, {"read", ".*"}};
}

TEST_F(HttpAdminTest, VhostPutIsCreatedThenNoContent) {
  Reply created = call("PUT", "/api/vhosts/v1", "{}");
  EXPECT_EQ(created.status, 201u);
  EXPECT_EQ(created.body, "");
  EXPECT_EQ(call("PUT", "/api/vhosts/v1", "{}").status, 204u);
  ASSERT_NE(broker.find_vhost("v1"), nullptr);
  EXPECT_NE(broker.find_vhost("v1")->find_exchange("amq.direct"), nullptr);
  Reply got = call("GET", "/api/vhosts/v1");
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.json["name"], "v1");
  EXPECT_EQ(got.json["tracing"], false);
  EXPECT_EQ(got.json["cluster_state"], (json{{"rabbit@localhost", "running"}}));
}

TEST_F(HttpAdminTest, VhostCreatorGetsFullPermissions) {
  ASSERT_EQ(call("PUT", "/api/vhosts/v1", "{}").status, 201u);
  EXPECT_EQ(call("GET", "/api/permissions/v1/guest").json, full_permissions("guest", "v1"));
  EXPECT_EQ(call("GET", "/api/queues/v1").json, json::array());
  EXPECT_EQ(call("PUT", "/api/queues/v1/q0", R"({"durable":false})").status, 201u);
}

// RabbitMQ's with_decode reads an empty body as {} (rabbit_mgmt_util:decode(<<>>)), so
// `curl -X PUT .../api/vhosts/v` creates a vhost (checked on a 3.10.8 node).
TEST_F(HttpAdminTest, EmptyBodyIsAnEmptyObject) {
  EXPECT_EQ(call("PUT", "/api/vhosts/v1", "").status, 201u);
  EXPECT_EQ(call("PUT", on_root("queues", "q"), "").status, 201u);
}

TEST_F(HttpAdminTest, VhostTagsAreSplitAndTrimmedAndReplacedByPut) {
  ASSERT_EQ(call("PUT", "/api/vhosts/meta",
                 R"({"description":"my desc","tags":" a , b,,c","default_queue_type":"quorum"})")
                .status,
            201u);
  json got = call("GET", "/api/vhosts/meta").json;
  EXPECT_EQ(got["description"], "my desc");
  EXPECT_EQ(got["tags"], (json{"a", "b", "", "c"}));
  EXPECT_EQ(got["default_queue_type"], "undefined");  // 3.10 ignores it on PUT
  EXPECT_EQ(got["metadata"], (json{{"description", "my desc"}, {"tags", {"a", "b", "", "c"}}}));
  ASSERT_EQ(call("PUT", "/api/vhosts/meta", R"({"tags":["x","y"]})").status, 204u);
  got = call("GET", "/api/vhosts/meta").json;
  EXPECT_EQ(got["metadata"], (json{{"description", ""}, {"tags", {"x", "y"}}}));
}

TEST_F(HttpAdminTest, VhostDeleteTakesItsPermissions) {
  ASSERT_EQ(call("PUT", "/api/vhosts/gone", "{}").status, 201u);
  EXPECT_EQ(call("DELETE", "/api/vhosts/gone").status, 204u);
  EXPECT_EQ(broker.find_vhost("gone"), nullptr);
  Reply again = call("GET", "/api/vhosts/gone");
  EXPECT_EQ(again.status, 404u);
  EXPECT_EQ(again.json, kNotFound);
  EXPECT_EQ(call("DELETE", "/api/vhosts/gone").status, 404u);
  EXPECT_FALSE(auth.has_vhost_access("guest", "gone"));
}

TEST_F(HttpAdminTest, VhostListShowsOnlyAccessibleOnes) {
  auto names = [](const json& list) {
    std::vector<std::string> out;
    for (const auto& v : list) out.push_back(v["name"]);
    return out;
  };
  EXPECT_EQ(names(call("GET", "/api/vhosts").json), (std::vector<std::string>{"/", "pulse-test"}));
  EXPECT_EQ(names(call("GET", "/api/vhosts", "", "pol").json), (std::vector<std::string>{"/"}));
  Reply r = call("PUT", "/api/vhosts/x", "{}", "alice");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "Not administrator user"));
}

TEST_F(HttpAdminTest, UserPutNeedsTags) {
  Reply r = call("PUT", "/api/users/hu", R"({"password":"pw"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("tags_not_present"));
  EXPECT_EQ(auth.find_user("hu"), nullptr);
}

TEST_F(HttpAdminTest, UserRoundTripAndPasswordChange) {
  ASSERT_EQ(
      call("PUT", "/api/users/hu", R"({"password":"pw1","tags":"management,policymaker"})").status,
      201u);
  json got = call("GET", "/api/users/hu").json;
  EXPECT_EQ(got["name"], "hu");
  EXPECT_EQ(got["tags"], (json{"management", "policymaker"}));
  EXPECT_EQ(got["hashing_algorithm"], "rabbit_password_hashing_sha256");
  EXPECT_EQ(got["limits"], json::object());
  EXPECT_FALSE(got["password_hash"].get<std::string>().empty());
  EXPECT_EQ(call("PUT", "/api/users/hu", R"({"password":"pw2","tags":["management"]})").status,
            204u);
  EXPECT_EQ(call_with("GET", "/api/whoami", "", basic("hu", "pw2")).json,
            (json{{"name", "hu"}, {"tags", {"management"}}}));
  EXPECT_EQ(call_with("GET", "/api/whoami", "", basic("hu", "pw1")).status, 401u);
}

TEST_F(HttpAdminTest, UserTagsOnlyKeepThePassword) {
  ASSERT_EQ(call("PUT", "/api/users/hu", R"({"password":"pw","tags":""})").status, 201u);
  ASSERT_EQ(call("PUT", "/api/users/hu", R"({"tags":"management"})").status, 204u);
  EXPECT_EQ(call_with("GET", "/api/whoami", "", basic("hu", "pw")).status, 200u);
}

TEST_F(HttpAdminTest, UserPasswordHashMustBeBase64) {
  Reply r = call("PUT", "/api/users/bu", R"({"password_hash":"!!","tags":""})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body({"not_base64", "!!"}));
  EXPECT_EQ(auth.find_user("bu"), nullptr);
}

TEST_F(HttpAdminTest, UserDeleteAndBulkDelete) {
  ASSERT_EQ(call("PUT", "/api/users/u1", R"({"password":"x","tags":""})").status, 201u);
  ASSERT_EQ(call("PUT", "/api/users/u2", R"({"password":"x","tags":""})").status, 201u);
  ASSERT_EQ(call("PUT", "/api/users/u3", R"({"password":"x","tags":""})").status, 201u);
  EXPECT_EQ(call("DELETE", "/api/users/u1").status, 204u);
  EXPECT_EQ(call("DELETE", "/api/users/u1").status, 404u);
  EXPECT_EQ(call("GET", "/api/users/u1").json, kNotFound);
  Reply missing = call("POST", "/api/users/bulk-delete", "{}");
  EXPECT_EQ(missing.json, bad_request_body("[{key_missing,users}]"));
  EXPECT_EQ(call("POST", "/api/users/bulk-delete", R"({"users":["u2","u3"]})").status, 204u);
  EXPECT_EQ(auth.find_user("u2"), nullptr);
  EXPECT_EQ(auth.find_user("u3"), nullptr);
}

TEST_F(HttpAdminTest, PermissionRoundTrip) {
  ASSERT_EQ(call("PUT", "/api/users/hu", R"({"password":"pw","tags":""})").status, 201u);
  const std::string path = on_root("permissions", "hu");
  EXPECT_EQ(call("GET", path).status, 404u);
  EXPECT_EQ(call("PUT", path, R"({"configure":"^x","write":".*","read":".*"})").status, 201u);
  EXPECT_EQ(call("PUT", path, R"({"configure":".*","write":".*","read":".*"})").status, 204u);
  EXPECT_EQ(call("GET", path).json, full_permissions("hu", "/"));
  EXPECT_TRUE(auth.check("hu", "/", "anything", auth::Access::kConfigure));
  json mine = call("GET", "/api/users/hu/permissions").json;
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["vhost"], "/");
  EXPECT_EQ(call("DELETE", path).status, 204u);
  EXPECT_EQ(call("DELETE", path).status, 404u);
  EXPECT_FALSE(auth.has_vhost_access("hu", "/"));
}

TEST_F(HttpAdminTest, PermissionBodyErrors) {
  const std::string path = on_root("permissions", "guest");
  EXPECT_EQ(call("PUT", path, "{}").json,
            bad_request_body("[{key_missing,configure},{key_missing,write},{key_missing,read}]"));
  EXPECT_EQ(call("PUT", path, R"({"configure":".*"})").json,
            bad_request_body("[{key_missing,write},{key_missing,read}]"));
  EXPECT_EQ(call("PUT", path, R"({"configure":".*","write":".*"})").json,
            bad_request_body("[{key_missing,read}]"));
  Reply r = call("PUT", "/api/permissions/no-such-vhost/guest",
                 R"({"configure":".*","write":".*","read":".*"})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("vhost_or_user_not_found"));
  // Nothing changed on the way.
  EXPECT_EQ(call("GET", path).json, full_permissions("guest", "/"));
}

TEST_F(HttpAdminTest, PermissionsAreListedByVhostThenUser) {
  ASSERT_EQ(call("PUT", "/api/users/aa", R"({"password":"pw","tags":""})").status, 201u);
  ASSERT_EQ(call("PUT", on_root("permissions", "aa"), R"({"configure":"","write":"","read":".*"})")
                .status,
            201u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& p : call("GET", "/api/permissions").json)
    got.emplace_back(p["vhost"], p["user"]);
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(got, (std::vector<P>{{"/", "aa"},
                                 {"/", "alice"},
                                 {"/", "bob"},
                                 {"/", "guest"},
                                 {"/", "pol"},
                                 {"pulse-test", "alice"},
                                 {"pulse-test", "guest"}}));
  EXPECT_EQ(call("GET", "/api/vhosts/pulse-test/permissions").json.size(), 2u);
}

TEST_F(HttpAdminTest, TopicPermissionRoundTrip) {
  const std::string path = on_root("topic-permissions", "guest");
  EXPECT_EQ(call("GET", path).status, 404u);
  EXPECT_EQ(call("PUT", path, R"({"exchange":"amq.topic"})").json,
            bad_request_body("[{key_missing,write},{key_missing,read}]"));
  EXPECT_EQ(call("PUT", path, R"({"exchange":"amq.topic","write":"^a","read":".*"})").status, 201u);
  EXPECT_EQ(call("GET", path).json, (json::array({{{"user", "guest"},
                                                   {"vhost", "/"},
                                                   {"exchange", "amq.topic"},
                                                   {"write", "^a"},
                                                   {"read", ".*"}}})));
  EXPECT_FALSE(auth.check_topic("guest", "/", "amq.topic", "b.x", auth::Access::kWrite));
  EXPECT_EQ(call("DELETE", path).status, 204u);
  EXPECT_EQ(call("DELETE", path).status, 404u);
  EXPECT_TRUE(auth.check_topic("guest", "/", "amq.topic", "b.x", auth::Access::kWrite));
}

}  // namespace
}  // namespace pulse::http::testing
