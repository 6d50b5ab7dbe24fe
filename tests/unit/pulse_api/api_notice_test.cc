// POST /guardian/notices: an administrator's notice to a queue's owner goes to every sink of the
// running guardian, is listed to that owner (not to others) like the guardian's own, and says
// who wrote it; everyone else is refused; bad bodies and unknown queues get clear errors.
#include "api_fixture.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::api::testing {
namespace {

using nlohmann::json;

struct RecordingSink : guardian::NoticeSink {
  void send(const guardian::Notice& n) override { sent.push_back(n); }
  std::vector<guardian::Notice> sent;
};

class NoticeApiTest : public ApiTest {
 protected:
  NoticeApiTest() {
    make_owner("a@example.com");
    make_owner("b@example.com");
    make_user(a, "alice");
    make_user(b, "bob");
    configured.enabled = true;
    configured.thresholds = {100, 200};
    runner = std::make_unique<guardian::GuardianRunner>(
        *admin, configured, std::vector<guardian::NoticeSink*>{&notices, &recorded});
  }

  void attach() { ASSERT_TRUE(api->attach_guardian(*runner, notices).ok()); }

  ApiResponse notify(const Principal& who, const json& body) {
    return call(who, "POST", "/guardian/notices", body.dump());
  }

  guardian::GuardianSettings configured;
  guardian::NoticeLog notices;
  RecordingSink recorded;
  std::unique_ptr<guardian::GuardianRunner> runner;
};

TEST_F(NoticeApiTest, AnOperatorsNoticeReachesEverySinkAndTheOwnerOnly) {
  attach();
  declare("queue/alice/q");
  exchange("exchange/alice/x", "topic");
  bind("queue/alice/q", "exchange/alice/x", "a.#");
  publish("", "queue/alice/q", "m");
  publish("", "queue/alice/q", "m");

  auto r = notify(root, {{"vhost", "/"}, {"queue", "queue/alice/q"}, {"message", "Drain it."}});
  ASSERT_EQ(r.status, 201u) << r.text();
  EXPECT_EQ(r.body["event"], "operator");
  EXPECT_EQ(r.body["operator"], "guest");
  EXPECT_EQ(r.body["message"], "Drain it.");
  EXPECT_EQ(r.body["owner"], "alice");
  EXPECT_EQ(r.body["queue"], "queue/alice/q");
  EXPECT_EQ(r.body["messages"], 2);
  EXPECT_EQ(r.body["routing_key"], "operator.alice");
  EXPECT_EQ(r.body["id"], 1);
  EXPECT_EQ(r.body["bindings"],
            (json::array({{{"exchange", "exchange/alice/x"}, {"routing_key", "a.#"}}})));

  ASSERT_EQ(recorded.sent.size(), 1u);
  EXPECT_EQ(recorded.sent[0].event, guardian::Event::kOperator);
  EXPECT_EQ(runner->stats().notices, 1u);
  // The owner's list shows exactly what the POST answered; another owner's does not.
  auto mine = call(a, "GET", "/guardian/notices");
  ASSERT_EQ(mine.body.size(), 1u) << mine.text();
  EXPECT_EQ(mine.body[0], r.body);
  EXPECT_TRUE(call(b, "GET", "/guardian/notices").body.empty());
  EXPECT_EQ(call(a, "GET", "/guardian").body["last_notice_id"], 1);

  // The mail names the writer and carries the message as written.
  const auto& n = recorded.sent[0];
  EXPECT_EQ(guardian::email_subject(n),
            "Pulse notice: queue \"queue/alice/q\": a message from a Pulse administrator");
  const std::string body = guardian::email_body(n);
  EXPECT_NE(body.find("A Pulse administrator (guest) writes about your queue"), std::string::npos)
      << body;
  EXPECT_NE(body.find("\n\nDrain it.\n\n"), std::string::npos) << body;

  // A queue outside queue/<owner>/... has no owner: still sent (admins read it), as "_".
  declare("plain");
  auto un = notify(root, {{"vhost", "/"}, {"queue", "plain"}, {"message", "x"}});
  ASSERT_EQ(un.status, 201u) << un.text();
  EXPECT_EQ(un.body["owner"], nullptr);
  EXPECT_EQ(un.body["routing_key"], "operator._");
  EXPECT_EQ(un.body["id"], 2);
}

TEST_F(NoticeApiTest, AnAdminOwnerMaySendOthersMayNot) {
  attach();
  declare("queue/alice/q");
  make_owner("boss@example.com", true);
  const Principal boss{"boss@example.com", {"management"}};
  const json body = {{"vhost", "/"}, {"queue", "queue/alice/q"}, {"message", "hi"}};
  EXPECT_EQ(notify(boss, body).status, 201u);
  EXPECT_EQ(recorded.sent.at(0).operator_name, "boss@example.com");
  const Principal watcher{"watcher", {"monitoring"}};
  for (const Principal* who : {&a, &b, &stranger, &watcher}) {
    auto r = notify(*who, body);
    EXPECT_EQ(r.status, 403u) << who->name;
  }
  for (const Principal* who : {&a, &b}) {
    EXPECT_EQ(reason(notify(*who, body)), "only administrators may send notices");
  }
  EXPECT_EQ(recorded.sent.size(), 1u);
}

TEST_F(NoticeApiTest, BadBodiesAndMissingQueuesAreRefusedAndNothingIsSent) {
  attach();
  declare("queue/alice/q");
  const std::string long_name(256, 'q');
  struct Case {
    std::string body;
    unsigned status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"not json", 400, ""},
      {"[]", 400, ""},
      {R"({"vhost": "/", "queue": "queue/alice/q"})", 400, "'message' is missing"},
      {R"({"vhost": "/", "message": "m"})", 400, "'queue' is missing"},
      {R"({"queue": "queue/alice/q", "message": "m"})", 400, "'vhost' is missing"},
      {R"({"vhost": "/", "queue": "queue/alice/q", "message": ""})", 400, "'message' is empty"},
      {R"({"vhost": "/", "queue": "queue/alice/q", "message": " \n "})", 400, "'message' is empty"},
      {R"({"vhost": "/", "queue": "queue/alice/q", "message": 5})", 400,
       "'message' must be a string"},
      {json{{"vhost", "/"}, {"queue", "queue/alice/q"}, {"message", std::string(1001, 'm')}}.dump(),
       400, "'message' is longer than 1000 characters"},
      {R"({"vhost": "/", "queue": "queue/alice/q", "message": "m", "to": "x"})", 400,
       "unknown field 'to' (expected vhost, queue, message)"},
      {R"({"vhost": "", "queue": "queue/alice/q", "message": "m"})", 400, "'vhost' is empty"},
      {json{{"vhost", "/"}, {"queue", long_name}, {"message", "m"}}.dump(), 400,
       "'queue' is longer than 255 bytes"},
      {R"({"vhost": "/", "queue": "queue/alice/none", "message": "m"})", 404,
       "no queue 'queue/alice/none' in vhost '/'"},
      {R"({"vhost": "v2", "queue": "queue/alice/q", "message": "m"})", 404,
       "no queue 'queue/alice/q' in vhost 'v2'"},
      {R"({"vhost": "nowhere", "queue": "queue/alice/q", "message": "m"})", 404,
       "no queue 'queue/alice/q' in vhost 'nowhere'"},
  };
  for (const auto& c : cases) {
    auto r = call(root, "POST", "/guardian/notices", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.text();
    if (!c.reason.empty()) {
      EXPECT_EQ(reason(r), c.reason) << c.body;
    }
  }
  EXPECT_TRUE(recorded.sent.empty());
  EXPECT_EQ(notices.last_id(), 0u);
}

TEST_F(NoticeApiTest, WithoutARunningGuardianItIsUnavailable) {
  declare("queue/alice/q");
  auto r = notify(root, {{"vhost", "/"}, {"queue", "queue/alice/q"}, {"message", "m"}});
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, (json{{"error", "unavailable"}, {"reason", "the guardian is not running"}}));
  // Permissions are checked first.
  EXPECT_EQ(notify(a, {{"vhost", "/"}, {"queue", "queue/alice/q"}, {"message", "m"}}).status, 403u);
}

}  // namespace
}  // namespace pulse::api::testing
