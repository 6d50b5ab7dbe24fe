// /guardian...: 503 until a runner is attached; settings changed by administrators only,
// validated, applied to the runner and kept across a restart; notices per owner; unbounded
// flags.
#include "api_fixture.h"

namespace pulse::api::testing {
namespace {

using nlohmann::json;

class GuardianApiTest : public ApiTest {
 protected:
  GuardianApiTest() {
    make_owner("a@example.com");
    make_owner("b@example.com");
    make_user(a, "alice");
    make_user(b, "bob");
    configured.enabled = true;
    configured.thresholds = {2, 4};
    configured.unbounded.insert({"/", "queue/bob/configured"});
    runner = make_runner();
  }

  std::unique_ptr<guardian::GuardianRunner> make_runner() {
    return std::make_unique<guardian::GuardianRunner>(*admin, configured,
                                                      std::vector<guardian::NoticeSink*>{&notices});
  }

  void attach() { ASSERT_TRUE(api->attach_guardian(*runner, notices).ok()); }

  void fill(const std::string& queue, int n) {
    if (vh.find_queue(queue) == nullptr) declare(queue);
    for (int i = 0; i < n; ++i) publish("", queue, "m");
  }

  guardian::GuardianSettings configured;
  guardian::NoticeLog notices;
  std::unique_ptr<guardian::GuardianRunner> runner;
};

TEST_F(GuardianApiTest, WithoutARunnerTheGuardianIsUnavailable) {
  for (const char* target : {"/guardian", "/guardian/notices", "/guardian/unbounded",
                             "/guardian/owners", "/guardian/unbounded/%2F/q"}) {
    auto r = call(root, "GET", target);
    EXPECT_EQ(r.status, 503u) << target;
    EXPECT_EQ(r.body, (json{{"error", "unavailable"}, {"reason", "the guardian is not running"}}));
  }
  // Permissions are checked first.
  EXPECT_EQ(call(a, "PUT", "/guardian", R"({"interval": 10})").status, 403u);
}

TEST_F(GuardianApiTest, AdministratorsChangeSettingsThatTheRunnerAppliesAndARestartKeeps) {
  attach();
  auto r = call(a, "GET", "/guardian");
  ASSERT_EQ(r.status, 200u) << r.text();
  EXPECT_EQ(r.body["enabled"], true);
  EXPECT_EQ(r.body["settings"]["warn_queue_size"], 2);
  EXPECT_EQ(r.body["overrides"]["warn_queue_size"], nullptr);
  EXPECT_EQ(r.body["stats"]["polls"], 0);

  EXPECT_EQ(call(a, "PUT", "/guardian", R"({"warn_queue_size": 3})").status, 403u);
  r = call(root, "PUT", "/guardian", R"({"warn_queue_size": 3, "interval": 30})");
  ASSERT_EQ(r.status, 200u) << r.text();
  EXPECT_EQ(runner->settings().thresholds.warn_queue_size, 3u);
  EXPECT_EQ(runner->settings().interval, std::chrono::seconds(30));
  EXPECT_EQ(r.body["overrides"]["interval"], 30);

  struct Case {
    const char* body;
    const char* reason;
  };
  const Case bad[] = {
      {R"({"warn_queue_size": 100})", "warn_queue_size"},  // not below delete_queue_size
      {R"({"interval": 0})", "'interval' must be a number of seconds from 1"},
      {R"({"interval": "5"})", "'interval' must be a number of seconds"},
      {R"({"interval": -5})", "'interval' must be a number of seconds"},
      {R"({"interval": 1.5})", "'interval' must be a number of seconds"},
      {R"({"delete_queue_size": 99999999999999999999})", "'delete_queue_size' must be"},
      {R"({"enabled": false})", "unknown field 'enabled'"},
      {"[]", "JSON object"},
  };
  for (const auto& c : bad) {
    r = call(root, "PUT", "/guardian", c.body);
    EXPECT_EQ(r.status, 400u) << c.body;
    EXPECT_NE(reason(r).find(c.reason), std::string::npos) << c.body << ": " << r.text();
  }
  EXPECT_EQ(runner->settings().thresholds.warn_queue_size, 3u);

  r = call(root, "PUT", "/guardian/owners/alice", R"({"delete_queue_size": 50})");
  ASSERT_EQ(r.status, 200u) << r.text();
  EXPECT_EQ(runner->settings().owners.at("alice").delete_queue_size, 50u);
  EXPECT_EQ(call(root, "PUT", "/guardian/owners/alice", "{}").status, 400u);
  EXPECT_EQ(call(root, "PUT", "/guardian/owners/a%2Fb", R"({"delete_queue_size": 9})").status,
            400u);

  // A restart: a new runner with the configured settings, a new API over the same stores.
  runner = make_runner();
  service = make_service();
  api = make_api();
  attach();
  EXPECT_EQ(runner->settings().thresholds.warn_queue_size, 3u);
  EXPECT_EQ(runner->settings().thresholds.delete_queue_size, 4u);
  EXPECT_EQ(runner->settings().interval, std::chrono::seconds(30));
  EXPECT_EQ(runner->settings().owners.at("alice").delete_queue_size, 50u);

  // null gives the setting back to the configuration.
  r = call(root, "PUT", "/guardian", R"({"warn_queue_size": null})");
  ASSERT_EQ(r.status, 200u) << r.text();
  EXPECT_EQ(runner->settings().thresholds.warn_queue_size, 2u);
  EXPECT_EQ(call(root, "DELETE", "/guardian/owners/alice").status, 204u);
  EXPECT_FALSE(runner->settings().owners.contains("alice"));
  EXPECT_EQ(call(root, "DELETE", "/guardian/owners/alice").status, 404u);
  EXPECT_EQ(call(root, "DELETE", "/guardian").status, 405u);
}

TEST_F(GuardianApiTest, StoredSettingsThatNoLongerFitTheConfigurationAreNotApplied) {
  attach();
  ASSERT_EQ(call(root, "PUT", "/guardian", R"({"warn_queue_size": 3})").status, 200u);
  configured.thresholds.delete_queue_size = 3;
  configured.thresholds.warn_queue_size = 1;
  runner = make_runner();
  api = make_api();
  auto s = api->attach_guardian(*runner, notices);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(runner->settings().thresholds.warn_queue_size, 1u);
  EXPECT_EQ(call(root, "GET", "/guardian").status, 200u);
}

TEST_F(GuardianApiTest, OwnersSeeTheNoticesOfTheirOwnQueues) {
  attach();
  fill("queue/alice/q", 3);
  fill("queue/bob/q", 3);
  fill("unowned", 3);
  runner->poll(now);
  ASSERT_EQ(notices.last_id(), 3u);

  auto queues = [&](const Principal& who, const std::string& query) {
    auto r = call(who, "GET", "/guardian/notices" + query);
    EXPECT_EQ(r.status, 200u) << r.text();
    std::vector<std::string> out;
    for (const auto& n : r.body) out.push_back(n["queue"]);
    return out;
  };
  EXPECT_EQ(queues(a, ""), std::vector<std::string>{"queue/alice/q"});
  EXPECT_EQ(queues(b, ""), std::vector<std::string>{"queue/bob/q"});
  EXPECT_EQ(queues(root, ""),
            (std::vector<std::string>{"queue/alice/q", "queue/bob/q", "unowned"}));
  EXPECT_EQ(queues(root, "?since=1"), (std::vector<std::string>{"queue/bob/q", "unowned"}));
  EXPECT_EQ(queues(root, "?after=1&limit=1"), std::vector<std::string>{"queue/bob/q"});
  // A monitoring user reads every notice, and the guardian's state, but changes nothing.
  const Principal watcher{"watcher", {"monitoring"}};
  EXPECT_EQ(queues(watcher, "").size(), 3u);
  EXPECT_EQ(call(watcher, "GET", "/guardian").status, 200u);
  EXPECT_EQ(call(watcher, "PUT", "/guardian", R"({"interval": 9})").status, 403u);
  EXPECT_EQ(call(watcher, "GET", "/users").status, 403u);
  EXPECT_EQ(call(stranger, "GET", "/guardian/notices").status, 403u);
  EXPECT_EQ(queues(root, "?owner=alice"), std::vector<std::string>{"queue/alice/q"});
  EXPECT_TRUE(queues(a, "?owner=bob").empty());
  auto r = call(a, "GET", "/guardian/notices");
  EXPECT_EQ(r.body[0]["routing_key"], "warning.alice");
  EXPECT_EQ(r.body[0]["event"], "warning");
  EXPECT_EQ(r.body[0]["id"], 1);
  EXPECT_EQ(call(a, "GET", "/guardian").body["last_notice_id"], 3);
  EXPECT_EQ(call(a, "GET", "/guardian/notices?since=abc").status, 400u);
  EXPECT_EQ(call(a, "GET", "/guardian/notices?since=-1").status, 400u);
  EXPECT_EQ(call(a, "GET", "/guardian/notices?limit=0").status, 400u);
  EXPECT_EQ(call(a, "DELETE", "/guardian/notices").status, 405u);
}

TEST_F(GuardianApiTest, UnboundedFlagsKeepQueuesAndSurviveARestart) {
  attach();
  const std::string path = "/guardian/unbounded/%2F/queue%2Falice%2Fq";
  EXPECT_EQ(call(a, "PUT", path).status, 403u);
  auto r = call(root, "PUT", path);
  ASSERT_EQ(r.status, 201u) << r.text();
  EXPECT_EQ(r.body, (json{{"vhost", "/"}, {"queue", "queue/alice/q"}, {"set_by", "api"}}));
  EXPECT_EQ(call(root, "PUT", path).status, 204u);
  EXPECT_TRUE(runner->settings().unbounded.contains({"/", "queue/alice/q"}));

  fill("queue/alice/q", 5);  // over delete_queue_size
  runner->poll(now);
  EXPECT_NE(vh.find_queue("queue/alice/q"), nullptr);

  r = call(a, "GET", "/guardian/unbounded");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, json::parse(R"([{"vhost": "/", "queue": "queue/alice/q", "set_by": "api"},
      {"vhost": "/", "queue": "queue/bob/configured", "set_by": "config"}])"));

  runner = make_runner();
  api = make_api();
  attach();
  EXPECT_TRUE(runner->settings().unbounded.contains({"/", "queue/alice/q"}));
  EXPECT_EQ(call(root, "DELETE", "/guardian/unbounded/%2F/queue%2Fbob%2Fconfigured").status, 409u);
  EXPECT_EQ(call(root, "DELETE", path).status, 204u);
  EXPECT_EQ(call(root, "DELETE", path).status, 404u);
  EXPECT_EQ(call(root, "GET", path).status, 404u);
  EXPECT_FALSE(runner->settings().unbounded.contains({"/", "queue/alice/q"}));
  runner->poll(now);
  EXPECT_EQ(vh.find_queue("queue/alice/q"), nullptr);
  EXPECT_EQ(call(root, "PUT", "/guardian/unbounded/%2F/" + std::string(256, 'q')).status, 400u);
  EXPECT_EQ(call(root, "PUT", "/guardian/unbounded/%2F/%FF").status, 400u);
}

}  // namespace
}  // namespace pulse::api::testing
