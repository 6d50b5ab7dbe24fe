// pulse-bridge's pure parts (tools/pulse-bridge): GitHub signatures, routing keys, Bugzilla
// filtering, pushlog messages, feed items and the config reader.
#include <gtest/gtest.h>

#include <map>

#include "argv.h"
#include "bridge_args.h"
#include "bridge_config.h"
#include "events.h"
#include "ingress.h"
#include "poller.h"

namespace pulse::bridge {
namespace {

using nlohmann::json;

// GitHub's documented example (docs: "Validating webhook deliveries").
constexpr const char* kDocSecret = "It's a Secret to Everybody";
constexpr const char* kDocBody = "Hello, World!";
constexpr const char* kDocSig =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

TEST(BridgeSignature, AcceptsGithubsExampleAndRefusesAnyOther) {
  const std::string good = kDocSig;
  EXPECT_TRUE(check_github_signature(&good, kDocSecret, kDocBody));
  std::string upper = good;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(check_github_signature(&upper, kDocSecret, kDocBody));

  auto missing = check_github_signature(nullptr, kDocSecret, kDocBody);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, 401);
  const std::string empty;
  EXPECT_EQ(check_github_signature(&empty, kDocSecret, kDocBody).error().code, 401);

  auto other_body = check_github_signature(&good, kDocSecret, "Hello, World?");
  ASSERT_FALSE(other_body);
  EXPECT_EQ(other_body.error().code, 403);
  EXPECT_NE(other_body.error().text.find("does not match"), std::string::npos);
  EXPECT_EQ(check_github_signature(&good, "another secret", kDocBody).error().code, 403);
  const std::string sha1 = "sha1=" + good.substr(7);
  EXPECT_EQ(check_github_signature(&sha1, kDocSecret, kDocBody).error().code, 403);
  const std::string truncated = good.substr(0, good.size() - 2);
  EXPECT_EQ(check_github_signature(&truncated, kDocSecret, kDocBody).error().code, 403);
}

TEST(BridgeSecret, BearerTokensCompareWhole) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer"), "");
  EXPECT_TRUE(same_secret("tok", "tok"));
  EXPECT_FALSE(same_secret("tok2", "tok"));
  EXPECT_FALSE(same_secret("to", "tok"));
  EXPECT_FALSE(same_secret("", "tok"));
}

TEST(BridgeRoutingKeys, WordsKeepTheirCount) {
  EXPECT_EQ(key_word("a.b@example.org"), "a%2Eb@example%2Eorg");
  EXPECT_EQ(key_word("100%"), "100%25");
  EXPECT_EQ(key_word(""), "_");
  EXPECT_EQ(ref_word("refs/heads/main"), "heads/main");
  EXPECT_EQ(ref_word("refs/tags/v1.0"), "tags/v1%2E0");
  EXPECT_EQ(ref_word("main"), "main");
}

json push_payload() {
  return {{"ref", "refs/heads/release/1.2"},
          {"repository",
           {{"name", "gecko.dev"},
            {"html_url", "https://github.com/mozilla/gecko.dev"},
            {"owner", {{"name", "mozilla"}, {"login", "mozilla"}}}}},
          {"pusher", {{"name", "alice"}}},
          {"commits",
           {{{"id", "a1"}, {"author", {{"email", "alice@example.org"}}}},
            {{"id", "b2"}, {"author", {{"name", "no email"}}}}}}};
}

TEST(BridgeGithub, PushGivesThePushAndOneMessagePerCommit) {
  auto m = github_messages("push", push_payload());
  ASSERT_TRUE(m) << m.error().text;
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].routing_key, "github.push.mozilla.gecko%2Edev.heads/release/1%2E2");
  EXPECT_EQ((*m)[0].payload, push_payload());
  EXPECT_EQ((*m)[1].routing_key,
            "github.commit.mozilla.gecko%2Edev.heads/release/1%2E2.alice@example%2Eorg");
  EXPECT_EQ((*m)[1].payload["commit"]["id"], "a1");
  EXPECT_EQ((*m)[1].payload["owner"], "mozilla");
  EXPECT_EQ((*m)[1].payload["repo"], "gecko.dev");
  EXPECT_EQ((*m)[1].payload["ref"], "refs/heads/release/1.2");
  EXPECT_EQ((*m)[2].routing_key, "github.commit.mozilla.gecko%2Edev.heads/release/1%2E2._");
}

TEST(BridgeGithub, OtherEventsAndBadPayloads) {
  json pr = {{"action", "opened"}, {"repository", {{"name", "r"}, {"owner", {{"login", "o"}}}}}};
  auto m = github_messages("pull_request", pr);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].routing_key, "github.pull_request.o.r");
  auto org = github_messages("organization", json{{"action", "member_added"}});
  ASSERT_TRUE(org);
  EXPECT_EQ((*org)[0].routing_key, "github.organization._._");

  EXPECT_EQ(github_messages("push", json{{"ref", "refs/heads/x"}}).error().code, 400);
  EXPECT_EQ(github_messages("push", json::array()).error().code, 400);
  EXPECT_EQ(github_messages("", pr).error().code, 400);
  EXPECT_EQ(github_messages("a.b", pr).error().code, 400);
}

json bug_event(bool private_bug) {
  return {{"bug", {{"id", 1234}, {"is_private", private_bug}, {"status", "RESOLVED"}}},
          {"event",
           {{"action", "modify"},
            {"target", "bug"},
            {"change_set", "62"},
            {"routing_key", "bug.modify:status,resolution"},
            {"user", {{"login", "a@example.org"}}},
            {"time", "2026-12-06T01:00:00"},
            {"changes",
             {{{"field", "status"}, {"removed", "NEW"}, {"added", "RESOLVED"}},
              {{"field", "resolution"}, {"removed", ""}, {"added", "FIXED"}}}}}}};
}

TEST(BridgeBugzilla, RoutingKeyIsTargetActionAndFields) {
  auto r = bugzilla_message(bug_event(false));
  ASSERT_TRUE(r) << r.error().text;
  EXPECT_FALSE(r->filtered);
  EXPECT_EQ(r->message.routing_key, "bug.modify:status,resolution");
  EXPECT_EQ(r->message.payload, bug_event(false));

  json create = {{"bug", {{"id", 1}, {"is_private", false}}},
                 {"event", {{"action", "create"}, {"target", "bug"}, {"changes", json::array()}}}};
  EXPECT_EQ(bugzilla_message(create)->message.routing_key, "bug.create");
  EXPECT_EQ(bugzilla_message(create)->message.payload["event"]["routing_key"], "bug.create");
}

TEST(BridgeBugzilla, PrivateBugsCommentsAndAttachmentsAreFiltered) {
  auto priv = bugzilla_message(bug_event(true));
  ASSERT_TRUE(priv);
  EXPECT_TRUE(priv->filtered);
  EXPECT_EQ(priv->why, "private bug");

  json comment = {
      {"comment", {{"id", 9}, {"is_private", true}, {"bug", {{"id", 1}, {"is_private", false}}}}},
      {"event", {{"action", "create"}, {"target", "comment"}}}};
  auto c = bugzilla_message(comment);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->filtered);
  EXPECT_EQ(c->why, "private comment");
  EXPECT_EQ(c->message.routing_key, "comment.create");

  comment["comment"]["is_private"] = false;
  EXPECT_FALSE(bugzilla_message(comment)->filtered);
  comment["comment"]["bug"]["is_private"] = true;  // a public comment on a private bug
  EXPECT_EQ(bugzilla_message(comment)->why, "private bug");

  json att = {{"attachment", {{"id", 3}, {"is_private", 1}}},
              {"event", {{"action", "create"}, {"target", "attachment"}}}};
  EXPECT_TRUE(bugzilla_message(att)->filtered);
}

TEST(BridgeBugzilla, MalformedBodiesAre400) {
  EXPECT_EQ(bugzilla_message(json::array()).error().code, 400);
  EXPECT_EQ(bugzilla_message(json{{"bug", json::object()}}).error().code, 400);
  json no_target = {{"event", {{"action", "modify"}, {"target", "bug"}}}};
  EXPECT_EQ(bugzilla_message(no_target).error().code, 400);
  json dotted = {{"bug", json::object()}, {"event", {{"action", "a.b"}, {"target", "bug"}}}};
  EXPECT_EQ(bugzilla_message(dotted).error().code, 400);
}

TEST(BridgePushlog, OneChangegroupPerPushInIdOrder) {
  json reply = {{"lastpushid", 12},
                {"pushes",
                 {{"12", {{"changesets", {"c1", "c2"}}, {"date", 1700000012}, {"user", "b@x"}}},
                  {"11", {{"changesets", {"b1"}}, {"date", 1700000011}, {"user", "a@x"}}},
                  {"10", {{"changesets", {"a1"}}, {"date", 1700000010}, {"user", "z@x"}}}}}};
  const std::string repo = "https://hg.example.org/integration/mozilla-inbound/";
  auto m = pushlog_messages(reply, repo, 10, false);
  ASSERT_TRUE(m) << m.error().text;
  EXPECT_EQ(m->last_push_id, 12);
  ASSERT_EQ(m->ids, (std::vector<int64_t>{11, 12}));
  const std::string base = "https://hg.example.org/integration/mozilla-inbound";
  json expected = {
      {"type", "changegroup.1"},
      {"data",
       {{"repo_url", base},
        {"heads", {"c2"}},
        {"pushlog_pushes",
         {{{"pushid", 12},
           {"time", 1700000012},
           {"user", "b@x"},
           {"push_json_url", base + "/json-pushes?version=2&startID=11&endID=12"},
           {"push_full_json_url", base + "/json-pushes?version=2&full=1&startID=11&endID=12"}}}},
        {"source", "push"}}}};
  EXPECT_EQ(m->payloads[1], expected);
  // full=1: the push's changesets (objects with a node) ride along in its entry.
  json full = {{"lastpushid", 3},
               {"pushes",
                {{"3",
                  {{"changesets", {{{"node", "n1"}, {"desc", "one"}}, {{"node", "n2"}}}},
                   {"date", 1},
                   {"user", "u"}}}}}};
  auto f = pushlog_messages(full, repo, 2, true);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payloads[0]["data"]["heads"], json({"n2"}));
  EXPECT_EQ(f->payloads[0]["data"]["pushlog_pushes"][0]["changesets"][0]["desc"], "one");
  EXPECT_FALSE(pushlog_messages(full, repo, 2, false)
                   ->payloads[0]["data"]["pushlog_pushes"][0]
                   .contains("changesets"));
  EXPECT_EQ(repo_routing_key(repo), "integration/mozilla-inbound");
  EXPECT_EQ(repo_routing_key("http://127.0.0.1:8000/mozilla-central"), "mozilla-central");

  EXPECT_FALSE(pushlog_messages(json{{"pushes", json::object()}}, repo, 0, false));
  EXPECT_FALSE(pushlog_messages(json{{"lastpushid", 1}, {"pushes", {{"x", json::object()}}}}, repo,
                                0, false));
}

TEST(BridgeFeed, ItemsAndIds) {
  json arr = json::array({{{"id", 1}}, {{"id", "b"}}});
  EXPECT_EQ(*feed_items(arr, ""), &arr);
  json obj = {{"items", arr}, {"entries", arr}};
  EXPECT_EQ(*feed_items(obj, ""), &obj["items"]);
  EXPECT_EQ(*feed_items(obj, "entries"), &obj["entries"]);
  EXPECT_FALSE(feed_items(json{{"items", 3}}, ""));
  EXPECT_EQ(item_id(arr[0], "id"), "1");
  EXPECT_EQ(item_id(arr[1], "id"), "b");
  EXPECT_EQ(item_id(json{{"id", 1.5}}, "id"), "");
  EXPECT_EQ(item_id(json{{"x", 1}}, "id"), "");
}

const char* no_env(const std::string&) {
  return nullptr;
}

Result<BridgeConfig> parse(const std::string& text) {
  static const std::map<std::string, std::string> env{{"GH_SECRET", "from-env"}};
  return parse_bridge_config(text, "b.conf", [](const std::string& n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(BridgeConfig, ReadsSourcesWithTheirDefaults) {
  auto c = parse(
      "pulse.bridge.listen = 127.0.0.1:15690\n"
      "pulse.bridge.state_dir = /var/lib/pulse-bridge\n"
      "pulse.bridge.sources.gh.type = github\n"
      "pulse.bridge.sources.gh.secret_env = GH_SECRET\n"
      "pulse.bridge.sources.gh.events = push, pull_request\n"
      "pulse.bridge.sources.feed.type = json_feed\n"
      "pulse.bridge.sources.feed.url = https://example.org/feed.json?x=1\n"
      "pulse.bridge.sources.feed.interval = 0.5\n"
      "pulse.bridge.sources.hg.type = hg_pushlog\n"
      "pulse.bridge.sources.hg.url = https://hg.mozilla.org/mozilla-central\n"
      "pulse.bridge.sources.hg.start_id = 0\n");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->listen, "127.0.0.1:15690");
  ASSERT_EQ(c->sources.size(), 3u);
  const SourceConfig& gh = c->sources[0];
  EXPECT_EQ(gh.name, "gh");
  EXPECT_EQ(gh.type, SourceType::kGithub);
  EXPECT_EQ(gh.secret, "from-env");
  EXPECT_EQ(gh.events, (std::vector<std::string>{"push", "pull_request"}));
  EXPECT_EQ(c->sources[1].interval, std::chrono::milliseconds(500));
  EXPECT_EQ(c->sources[2].start_id, 0);
  EXPECT_EQ(default_exchange(gh, "alice"), "exchange/alice/github");
  EXPECT_EQ(default_exchange(c->sources[1], "alice"), "exchange/alice/feed");
  EXPECT_EQ(default_exchange(c->sources[2], "alice"), "exchange/hgpushes/v2");
  EXPECT_TRUE(c->has_pollers());
  EXPECT_TRUE(c->has_ingress());
}

TEST(BridgeConfig, RefusalsNameFileLineAndKey) {
  auto expect_error = [](const std::string& text, const std::string& part) {
    auto c = parse(text);
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().text.find(part), std::string::npos) << c.error().text;
  };
  expect_error("listeners.tcp.default = 5672\n", "b.conf:1: unknown key 'listeners.tcp.default'");
  expect_error("pulse.bridge.sources.gh.type = gitlab\n", "b.conf:1: ");
  expect_error("pulse.bridge.sources.gh.type = github\npulse.bridge.sources.gh.secrt = x\n",
               "b.conf:2: 'pulse.bridge.sources.gh.secrt': unknown key 'secrt'");
  expect_error("pulse.bridge.sources.gh.type = github\n",
               "b.conf:1: source 'gh': a github "
               "source needs a secret");
  expect_error("pulse.bridge.sources.gh.secret = x\n", "source 'gh': no type");
  expect_error("pulse.bridge.sources.gh.type = github\npulse.bridge.sources.gh.secret_env = NOPE\n",
               "b.conf:2: 'pulse.bridge.sources.gh.secret_env': environment variable 'NOPE'");
  expect_error("pulse.bridge.sources.f.type = json_feed\n", "needs a url");
  expect_error("pulse.bridge.sources.f.type = json_feed\npulse.bridge.sources.f.url = x\n",
               "b.conf:2:");
  expect_error(
      "pulse.bridge.sources.f.type = json_feed\npulse.bridge.sources.f.url = http://h/\n"
      "pulse.bridge.sources.f.interval = soon\n",
      "b.conf:3: 'pulse.bridge.sources.f.interval': expected a number of seconds");
  expect_error("pulse.bridge.sources.a.b.type = github\n", "b.conf:1:");
  expect_error("pulse.bridge.listen = nowhere\n", "b.conf:1: pulse.bridge.listen");
  expect_error("# nothing\n", "b.conf: no sources");
  expect_error(
      "pulse.bridge.sources.p.type = publish\npulse.bridge.sources.p.secret = t\n"
      "pulse.bridge.sources.p.routing_key = a..b\n",
      "b.conf:3:");
  EXPECT_FALSE(
      parse_bridge_config("pulse.bridge.sources.gh.type = github\n"
                          "pulse.bridge.sources.gh.secret_env = GH_SECRET\n",
                          "b.conf", no_env));
}

TEST(BridgeArgs, ConfigIsRequiredAndBadOptionsAreUsageErrors) {
  using tools::test::Argv;
  Argv none{"pulse-bridge"};
  auto p = parse_bridge_args(none.argc(), none.argv(), nullptr);
  EXPECT_FALSE(p.args);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.message.find("--config FILE is required"), std::string::npos);
  Argv help{"pulse-bridge", "--help"};
  auto h = parse_bridge_args(help.argc(), help.argv(), nullptr);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.message.find("/hooks/<name>"), std::string::npos);
  Argv bad_uri{"pulse-bridge", "--config", "/dev/null", "--uri", "http://x"};
  EXPECT_EQ(parse_bridge_args(bad_uri.argc(), bad_uri.argv(), nullptr).exit_code, 2);
  Argv ok{"pulse-bridge", "--config", "/dev/null", "--dry-run", "--listen", "127.0.0.1:15690"};
  auto o = parse_bridge_args(ok.argc(), ok.argv(), "amqp://u:p@h:5673/v");
  ASSERT_TRUE(o.args) << o.message;
  EXPECT_TRUE(o.args->dry_run);
  EXPECT_EQ(o.args->endpoints.front().user, "u");
}

}  // namespace
}  // namespace pulse::bridge
