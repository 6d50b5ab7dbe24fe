// Authentication, authorisation by tag and vhost, and the answers to unknown paths and
// methods, as RabbitMQ 3.10's management plugin gives them (test_http_auth.py).
#include "api_fixture.h"

namespace pulse::http::testing {
namespace {

using HttpAuthTest = ApiTest;

TEST_F(HttpAuthTest, NoCredentialsIsAnEmpty401WithTheChallenge) {
  Reply r = call_with("GET", "/api/overview", "", "");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("www-authenticate"), "Basic realm=\"RabbitMQ Management\"");
}

TEST_F(HttpAuthTest, WrongPasswordIsLoginFailedWithTheChallenge) {
  Reply r = call_with("GET", "/api/overview", "", basic("guest", "wrong"));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorized", "Login failed"));
  EXPECT_EQ(r.header("www-authenticate"), "Basic realm=\"RabbitMQ Management\"");
}

TEST_F(HttpAuthTest, UnknownUserIsLoginFailed) {
  Reply r = call_with("GET", "/api/whoami", "", basic("no-such-user", "x"));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorized", "Login failed"));
}

TEST_F(HttpAuthTest, MalformedAuthorizationIsLoginFailed) {
  for (const std::string& h : std::vector<std::string>{"Bearer abc", "Basic !!!",
                                                       "Basic " + auth::base64_encode("nocolon")}) {
    Reply r = call_with("GET", "/api/whoami", "", h);
    EXPECT_EQ(r.status, 401u) << h;
    EXPECT_EQ(r.json, error_body("not_authorized", "Login failed")) << h;
  }
}

TEST_F(HttpAuthTest, SchemeIsCaseInsensitive) {
  Reply r = call_with("GET", "/api/whoami", "", "bAsIc " + auth::base64_encode("guest:guest"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.json, (json{{"name", "guest"}, {"tags", {"administrator"}}}));
}

TEST_F(HttpAuthTest, UserWithoutManagementTagIsRefused) {
  Reply r = call("GET", "/api/overview", "", "bob");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "Not management user"));
  EXPECT_FALSE(r.header("www-authenticate"));
}

TEST_F(HttpAuthTest, ManagementUserIsNotAdministrator) {
  EXPECT_EQ(call("GET", "/api/whoami", "", "alice").json,
            (json{{"name", "alice"}, {"tags", {"management"}}}));
  for (const char* path : {"/api/users", "/api/permissions", "/api/users/guest"}) {
    Reply r = call("GET", path, "", "alice");
    EXPECT_EQ(r.status, 401u) << path;
    EXPECT_EQ(r.json, error_body("not_authorised", "Not administrator user")) << path;
  }
  Reply nodes = call("GET", "/api/nodes", "", "alice");
  EXPECT_EQ(nodes.status, 401u);
  EXPECT_EQ(nodes.json, error_body("not_authorised", "Not monitor user"));
}

TEST_F(HttpAuthTest, PoliciesNeedThePolicymakerTag) {
  const std::string body = R"({"pattern":"^zzz$","definition":{"max-length":1}})";
  Reply r = call("PUT", on_root("policies", "p"), body, "alice");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "User not authorised to access object"));
  EXPECT_EQ(call("GET", "/api/policies", "", "alice").status, 200u);  // the list is filtered
  EXPECT_EQ(call("PUT", on_root("policies", "p"), body, "pol").status, 201u);
  EXPECT_EQ(call("GET", "/api/policies", "", "alice").json.size(), 1u);
}

TEST_F(HttpAuthTest, VhostWithoutPermissionIsRefusedAndHiddenFromLists) {
  Reply r = call("GET", "/api/queues/pulse-test", "", "pol");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "User not authorised to access virtual host"));
  ASSERT_EQ(call("PUT", "/api/queues/pulse-test/hidden", "{}").status, 201u);
  EXPECT_EQ(call("GET", "/api/queues", "", "pol").json, json::array());
  // A monitoring user sees every vhost.
  Reply mon = call("GET", "/api/queues/pulse-test", "", "mon");
  EXPECT_EQ(mon.status, 200u);
  ASSERT_EQ(mon.json.size(), 1u);
  EXPECT_EQ(mon.json[0]["name"], "hidden");
}

TEST_F(HttpAuthTest, AdministratorReadsButCannotDeclareWithoutPermission) {
  auth.clear_permissions("guest", "pulse-test");
  EXPECT_EQ(call("GET", "/api/queues/pulse-test").status, 200u);
  EXPECT_EQ(call("GET", "/api/vhosts/pulse-test").json["name"], "pulse-test");
  Reply r = call("PUT", "/api/queues/pulse-test/q", "{}");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "User not authorised to access virtual host"));
}

TEST_F(HttpAuthTest, MonitoringUserReadsEveryVhostButChangesNone) {
  EXPECT_EQ(call("GET", "/api/nodes", "", "mon").json[0]["name"], "rabbit@localhost");
  Reply r = call("PUT", on_root("queues", "q"), "{}", "mon");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "User not authorised to access virtual host"));
  EXPECT_EQ(vhost().find_queue("q"), nullptr);
}

TEST_F(HttpAuthTest, MissingVhostIsNotFoundBeforeAnyPermissionQuestion) {
  Reply r = call("GET", "/api/queues/no-such-vhost", "", "alice");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json, kNotFound);
}

TEST_F(HttpAuthTest, ConfigurePermissionDecidesDeclarations) {
  Reply r = call("PUT", on_root("queues", "notalice"), R"({"durable":false})", "alice");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "Access refused."));
  EXPECT_EQ(vhost().find_queue("notalice"), nullptr);
  EXPECT_EQ(call("PUT", on_root("queues", "alice.q"), R"({"durable":false})", "alice").status,
            201u);
  EXPECT_EQ(call("DELETE", on_root("queues", "alice.q"), "", "alice").status, 204u);
  EXPECT_EQ(vhost().find_queue("alice.q"), nullptr);
}

TEST_F(HttpAuthTest, BodyIsDecodedBeforePermissionsAreChecked) {
  Reply r = call("PUT", on_root("queues", "notalice"), R"({"durable":"x"})", "alice");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body({"not_boolean", "x"}));
}

TEST_F(HttpAuthTest, AuthSettingsNeedNoLogin) {
  const json expected = {{"enable_uaa", false}, {"uaa_client_id", ""}, {"uaa_location", ""}};
  Reply anonymous = call_with("GET", "/api/auth", "", "");
  EXPECT_EQ(anonymous.status, 200u);
  EXPECT_EQ(anonymous.json, expected);
  EXPECT_EQ(call_with("GET", "/api/auth", "", basic("no-such-user", "x")).json, expected);
}

TEST_F(HttpAuthTest, UnknownPathIsNotFoundJson) {
  Reply r = call("GET", "/api/no-such-thing");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json, kNotFound);
  EXPECT_EQ(call("GET", "/api").json, kNotFound);
  EXPECT_EQ(call("GET", on_root("bindings", "e/amq.direct/x/q")).json, kNotFound);
}

TEST_F(HttpAuthTest, WrongMethodIs405WithAllow) {
  Reply r = call("DELETE", "/api/overview");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.body, "");
  ASSERT_TRUE(r.header("allow"));
  EXPECT_NE(r.header("allow")->find("GET"), std::string::npos);
  Reply list = call("POST", "/api/queues");
  EXPECT_EQ(list.status, 405u);
  EXPECT_EQ(list.header("allow"), "HEAD, GET, OPTIONS");
  Reply one = call("POST", on_root("queues", "q"));
  EXPECT_EQ(one.status, 405u);
  EXPECT_EQ(one.header("allow"), "HEAD, GET, PUT, DELETE, OPTIONS");
}

TEST_F(HttpAuthTest, OptionsAnswersWithoutCredentials) {
  Reply r = call_with("OPTIONS", "/api/queues", "", "");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("allow"), "HEAD, GET, PUT, POST, DELETE, OPTIONS");
}

TEST_F(HttpAuthTest, BadJsonBodyIsNotJson) {
  Reply r = call("PUT", on_root("queues", "bad"), R"({"durable":tru)");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("not_json"));
  EXPECT_EQ(call("PUT", on_root("queues", "bad"), "[1]").json, bad_request_body("not_json"));
  EXPECT_EQ(vhost().find_queue("bad"), nullptr);
}

// /api/pulse/...: 404 without a hook; with one, called after authentication with the user.
TEST_F(HttpAuthTest, PulseApiGoesToTheHookAfterAuthentication) {
  EXPECT_EQ(call("GET", "/api/pulse/whoami").json, kNotFound);
  std::vector<std::string> seen;
  Hooks h;
  h.pulse_api = [&seen](const Request& req, const auth::User& user) {
    seen.push_back(user.name + " " + req.method + " " + req.segments.back());
    return json_response({{"ok", true}});
  };
  Api with_hook{broker, auth, std::move(h), "rabbit@localhost"};
  Request req;
  ASSERT_TRUE(parse_target("/api/pulse/users/x%2Fy", req));
  req.method = "PUT";
  req.authorization = basic("alice", "alice-secret1");
  std::optional<Response> got;
  with_hook.handle(req, [&](Response r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200u);
  EXPECT_EQ(seen, std::vector<std::string>{"alice PUT x/y"});
  // No credentials, wrong ones, no management tag: the hook is never called.
  for (const auto& authz : {std::string(), basic("alice", "wrong"), basic("bob", "bob-secret2")}) {
    req.authorization = authz;
    got.reset();
    with_hook.handle(req, [&](Response r) { got = std::move(r); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 401u);
  }
  EXPECT_EQ(seen.size(), 1u);
}

}  // namespace
}  // namespace pulse::http::testing
