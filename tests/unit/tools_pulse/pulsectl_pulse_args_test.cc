// `pulsectl pulse ...`: its command line (tools/pulsectl/pulse_cli.cc) and the conversions of
// its arguments into /api/pulse's paths and bodies (pulse_args.cc).
#include <gtest/gtest.h>

#include "exit_codes.h"
#include "pulse_args.h"

namespace pulse::ctl {
namespace {

using nlohmann::json;

struct Parsed {
  std::shared_ptr<PulseCommand> cmd = std::make_shared<PulseCommand>();
  bool chosen = false;
  std::string error;  // CLI11's message when parsing failed
};

Parsed parse(const std::vector<std::string>& words) {
  Parsed p;
  CLI::App app{"pulsectl"};
  add_pulse_commands(app, p.cmd, [&p] { p.chosen = true; });
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    p.error = e.what();
  }
  return p;
}

TEST(PulsectlPulseArgs, OwnersCreateWithOptionalFields) {
  auto p = parse({"pulsectl", "pulse", "owners", "create", "a@example.com", "--display-name", "A",
                  "--admin", "true", "--password", "-"});
  ASSERT_TRUE(p.chosen) << p.error;
  EXPECT_EQ(p.cmd->noun, "owners");
  EXPECT_EQ(p.cmd->verb, "create");
  EXPECT_EQ(p.cmd->name, "a@example.com");
  EXPECT_EQ(p.cmd->display_name, "A");
  EXPECT_EQ(p.cmd->admin, "true");
  EXPECT_EQ(p.cmd->password, "-");  // read from stdin when it runs, not while parsing

  auto bare = parse({"pulsectl", "pulse", "owners", "update", "a@example.com"});
  ASSERT_TRUE(bare.chosen) << bare.error;
  EXPECT_FALSE(bare.cmd->display_name);  // absent, not empty: the PUT leaves it alone
  EXPECT_FALSE(bare.cmd->admin);
  EXPECT_FALSE(bare.cmd->password);
}

TEST(PulsectlPulseArgs, BadArgumentsAreRefusedWhileParsing) {
  for (const auto& words : std::vector<std::vector<std::string>>{
           {"pulsectl", "pulse", "owners", "create", "a@b", "--admin", "yes"},
           {"pulsectl", "pulse", "users", "create", "ann"},  // --password is required
           {"pulsectl", "pulse", "owners", "show"},
           {"pulsectl", "pulse", "namespaces", "claim", "ns"},
           {"pulsectl", "pulse", "guardian", "owners", "set", "ann"},
           {"pulsectl", "pulse", "guardian", "owners", "set", "ann", "--warn", "0"},
           {"pulsectl", "pulse", "guardian", "notices", "--limit", "x"},
           {"pulsectl", "pulse", "guardian", "unbounded", "add", "/"},
           {"pulsectl", "pulse", "users", "show", ""},  // would GET the list
           {"pulsectl", "pulse", "guardian", "unbounded", "remove", "/", ""},
           {"pulsectl", "pulse", "users", "frobnicate"}}) {
    auto p = parse(words);
    EXPECT_FALSE(p.chosen) << words[3];
    EXPECT_FALSE(p.error.empty()) << words[3];
  }
}

TEST(PulsectlPulseArgs, UsersAndNamespaces) {
  auto c = parse({"pulsectl", "pulse", "users", "create", "ann", "--password", "-", "--owner",
                  "o@x", "--description", "CI"});
  ASSERT_TRUE(c.chosen) << c.error;
  EXPECT_EQ(c.cmd->owner, "o@x");
  EXPECT_EQ(c.cmd->description, "CI");
  auto d = parse({"pulsectl", "pulse", "users", "delete", "ann", "--delete-queues"});
  ASSERT_TRUE(d.chosen) << d.error;
  EXPECT_TRUE(d.cmd->delete_queues);
  auto sp = parse({"pulsectl", "pulse", "users", "set-password", "ann"});
  ASSERT_TRUE(sp.chosen) << sp.error;
  EXPECT_FALSE(sp.cmd->password);  // stdin, when it runs
  auto q = parse({"pulsectl", "pulse", "users", "queues", "ann", "-c", "name,bindings"});
  ASSERT_TRUE(q.chosen) << q.error;
  EXPECT_EQ(q.cmd->columns, "name,bindings");

  auto claim = parse({"pulsectl", "pulse", "claims", "claim", "ci", "--expires", "+7d"});
  ASSERT_TRUE(claim.chosen) << claim.error;
  EXPECT_EQ(claim.cmd->noun, "namespaces");
  EXPECT_EQ(claim.cmd->expires, "+7d");
  EXPECT_FALSE(claim.cmd->contact);
}

TEST(PulsectlPulseArgs, Guardian) {
  auto set = parse({"pulsectl", "pulse", "guardian", "set", "interval=5m", "warn_queue_size=10"});
  ASSERT_TRUE(set.chosen) << set.error;
  EXPECT_EQ(set.cmd->verb, "set");
  EXPECT_EQ(set.cmd->settings, (std::vector<std::string>{"interval=5m", "warn_queue_size=10"}));
  auto os = parse({"pulsectl", "pulse", "guardian", "owners", "set", "ann", "--delete", "8"});
  ASSERT_TRUE(os.chosen) << os.error;
  EXPECT_EQ(os.cmd->noun, "guardian-owners");
  EXPECT_FALSE(os.cmd->warn);
  EXPECT_EQ(os.cmd->del, 8u);
  auto n = parse({"pulsectl", "pulse", "guardian", "notices", "--after", "12", "--owner", "ann",
                  "--limit", "5", "-f", "--poll", "0.5"});
  ASSERT_TRUE(n.chosen) << n.error;
  EXPECT_EQ(n.cmd->after, 12u);
  EXPECT_EQ(n.cmd->limit, 5u);
  EXPECT_TRUE(n.cmd->follow);
  EXPECT_DOUBLE_EQ(n.cmd->poll_seconds, 0.5);
  auto u = parse({"pulsectl", "pulse", "guardian", "unbounded", "remove", "/", "queue/a/q"});
  ASSERT_TRUE(u.chosen) << u.error;
  EXPECT_EQ(u.cmd->noun, "guardian-unbounded");
  EXPECT_EQ(u.cmd->name, "/");
  EXPECT_EQ(u.cmd->queue, "queue/a/q");
}

TEST(PulsectlPulseArgs, PathsArePercentEncodedPerSegment) {
  EXPECT_EQ(pulse_path({"guardian", "unbounded", "/", "queue/a/q"}),
            "/api/pulse/guardian/unbounded/%2F/queue%2Fa%2Fq");
  EXPECT_EQ(pulse_path({"owners", "a+b@example.com"}), "/api/pulse/owners/a%2Bb%40example.com");
  EXPECT_EQ(pulse_path({"users", "ann", "queues"}), "/api/pulse/users/ann/queues");
  EXPECT_EQ(pulse_path({"whoami"}), "/api/pulse/whoami");
  EXPECT_EQ(notices_query(std::nullopt, std::nullopt, std::nullopt), "");
  EXPECT_EQ(notices_query(7, std::string("a b"), 3), "?after=7&owner=a%20b&limit=3");
  EXPECT_EQ(notices_query(std::nullopt, std::nullopt, 1), "?limit=1");
}

TEST(PulsectlPulseArgs, ExpiresIsRfc3339OrADurationFromNow) {
  // 2027-01-15T08:00:00Z
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  EXPECT_EQ(*parse_expires("+7d", now), "2027-01-22T08:00:00Z");
  EXPECT_EQ(*parse_expires("+12h", now), "2027-01-15T20:00:00Z");
  EXPECT_EQ(*parse_expires("+1d12h30m", now), "2027-01-16T20:30:00Z");
  EXPECT_EQ(*parse_expires("+90", now), "2027-01-15T08:01:30Z");
  EXPECT_EQ(*parse_expires("+2w", now), "2027-01-29T08:00:00Z");
  EXPECT_EQ(*parse_expires("2027-02-01T00:00:00Z", now), "2027-02-01T00:00:00Z");
  EXPECT_EQ(*parse_expires("2027-02-01T00:00:00.5+02:00", now), "2027-02-01T00:00:00.5+02:00");
  for (const char* bad : {"", "+", "+0s", "+7x", "+d", "+5m5m", "tomorrow", "2027-02-01",
                          "2027-02-01T00:00:00", "+99999999999d"}) {
    auto r = parse_expires(bad, now);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, kExitUsage) << bad;
    EXPECT_NE(r.error().text.find("--expires"), std::string::npos) << r.error().text;
  }
}

TEST(PulsectlPulseArgs, GuardianSettings) {
  auto s = parse_guardian_settings({"interval=5m", "warn_queue_size=100", "idle_queue_expiry=1d",
                                    "max_connection_age=default", "delete_queue_size=default"});
  ASSERT_TRUE(s) << s.error().text;
  EXPECT_EQ(*s, json({{"interval", 300},
                      {"warn_queue_size", 100},
                      {"idle_queue_expiry", 86400},
                      {"max_connection_age", nullptr},
                      {"delete_queue_size", nullptr}}));
  EXPECT_EQ(*parse_guardian_settings({"interval=30"}), json({{"interval", 30}}));
  for (const auto& [items, text] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{}, "at least one"},
           {{"interval"}, "expected KEY=VALUE"},
           {{"=5"}, "expected KEY=VALUE"},
           {{"colour=red"}, "unknown setting 'colour'"},
           {{"interval=5", "interval=6"}, "given twice"},
           {{"warn_queue_size=5m"}, "number of messages"},
           {{"warn_queue_size=-1"}, "number of messages"},
           {{"interval=soon"}, "duration"}}) {
    auto r = parse_guardian_settings(items);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, kExitUsage);
    EXPECT_NE(r.error().text.find(text), std::string::npos) << r.error().text;
  }
}

TEST(PulsectlPulseArgs, SubscriptionBody) {
  PulseCommand cmd;
  cmd.exchange = "exchange/a/x";
  cmd.callback = "https://h/cb";
  cmd.secret = "k";
  EXPECT_EQ(*subscription_body(cmd),
            json({{"exchange", "exchange/a/x"}, {"callback", "https://h/cb"}, {"secret", "k"}}));
  cmd.topic = "a.#";
  cmd.lease = "1d12h";
  cmd.user = "ann";
  auto full = subscription_body(cmd);
  ASSERT_TRUE(full);
  EXPECT_EQ((*full)["lease_seconds"], 129600);
  EXPECT_EQ((*full)["topic"], "a.#");
  EXPECT_EQ((*full)["user"], "ann");
  cmd.lease = "soon";
  auto bad = subscription_body(cmd);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, kExitUsage);
}

}  // namespace
}  // namespace pulse::ctl
