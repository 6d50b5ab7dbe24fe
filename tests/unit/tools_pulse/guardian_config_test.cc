// pulse-guardian's --config reader and command line (tools/pulse-guardian).
#include <gtest/gtest.h>

#include "argv.h"
#include "config_file.h"
#include "guardian_args.h"

namespace pulse::tools {
namespace {

TEST(GuardianConfig, ReadsGuardianAndSmtpKeysAndIsOnByDefault) {
  auto c = parse_guardian_config(
      "# guardian\n"
      "pulse.guardian.interval = 1\n"
      "pulse.guardian.warn_queue_size = 5   # low, for a test\n"
      "pulse.guardian.delete_queue_size = 10\n"
      "pulse.guardian.owners.ci.bot.delete_queue_size = 50\n"
      "pulse.smtp.host = 127.0.0.1\n"
      "pulse.smtp.from = 'pulse@example.org'\n",
      "g.conf");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_TRUE(c->guardian.enabled);
  EXPECT_EQ(c->guardian.interval, std::chrono::seconds(1));
  EXPECT_EQ(c->guardian.thresholds.warn_queue_size, 5u);
  EXPECT_EQ(c->guardian.thresholds.delete_queue_size, 10u);
  EXPECT_EQ(c->guardian.owners.at("ci.bot").delete_queue_size, 50u);
  EXPECT_TRUE(c->smtp.enabled());
  EXPECT_EQ(c->smtp.from, "pulse@example.org");

  auto empty = parse_guardian_config("", "g.conf");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->guardian.enabled);
  EXPECT_EQ(empty->guardian.interval, std::chrono::seconds(5));
  EXPECT_FALSE(empty->smtp.enabled());
}

TEST(GuardianConfig, ReadsTheAccountsKeysOfTheApi) {
  auto c = parse_guardian_config(
      "pulse.accounts.vhosts = /,builds\n"
      "pulse.accounts.connection_url = amqps://rabbit.example:5671\n",
      "g.conf");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->accounts.vhosts, (std::vector<std::string>{"/", "builds"}));
  EXPECT_EQ(c->accounts.connection_url, "amqps://rabbit.example:5671");
}

TEST(GuardianConfig, RefusesWithFileLineAndKey) {
  struct Case {
    const char* text;
    const char* starts;
  };
  const Case cases[] = {
      {"pulse.guardian.interval = 1\npulse.guardian.intervall = 1\n",
       "g.conf:2: unknown key 'pulse.guardian.intervall'"},
      {"pulse.guardian.interval = soon\n",
       "g.conf:1: invalid value 'soon' for key 'pulse.guardian.interval'"},
      {"\npulse.smtp.prot = 25\n", "g.conf:2: unknown setting 'pulse.smtp.prot'"},
      {"listeners.tcp.default = 5672\n",
       "g.conf:1: unknown key 'listeners.tcp.default': pulse-guardian reads only"},
      {"pulse.namespaces.strict = true\n", "g.conf:1: unknown key 'pulse.namespaces.strict'"},
      {"pulse.guardian.interval 5\n", "g.conf:1: expected 'key = value'"},
      {"pulse.accounts.rotation_intervall = 60\n",
       "g.conf:1: unknown key 'pulse.accounts.rotation_intervall'"},
      {"pulse.accounts.rotation_interval = 5\n",
       "g.conf:1: pulse.accounts.rotation_interval (5): must be between 60 and 604800"},
      {"pulse.push.workers = 0\n",
       "g.conf:1: pulse.push.workers must be a whole number from 1 to 64"},
      {"pulse.push.colour = 1\n", "g.conf:1: unknown setting 'pulse.push.colour'"},
      {"pulse.guardian.enabled = true\npulse.guardian.enabled = false\n",
       "g.conf:2: pulse.guardian.enabled = false"},
      // Rules between keys name the file (and the keys), not a line.
      {"pulse.guardian.warn_queue_size = 10\npulse.guardian.delete_queue_size = 5\n",
       "g.conf: pulse.guardian.warn_queue_size"},
      {"pulse.smtp.host = mail.example.org\n", "g.conf: pulse.smtp.from"},
  };
  for (const auto& c : cases) {
    auto r = parse_guardian_config(c.text, "g.conf");
    ASSERT_FALSE(r) << c.text;
    EXPECT_TRUE(r.error().text.starts_with(c.starts)) << c.text << "\n -> " << r.error().text;
  }
}

TEST(GuardianArgs, NoticeEndpointsFollowTheManagementUrl) {
  test::Argv argv{"pulse-guardian", "--url", "http://rabbit.example:15672", "-u", "ops", "-p",
                  "s3cret"};
  auto p = parse_guardian_args(argv.argc(), argv.argv());
  ASSERT_TRUE(p.args) << p.message;
  auto e = notice_endpoints(*p.args);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].host, "rabbit.example");
  EXPECT_EQ((*e)[0].port, 5672);
  EXPECT_FALSE((*e)[0].tls);
  EXPECT_EQ((*e)[0].user, "ops");
  EXPECT_EQ((*e)[0].password, "s3cret");
  EXPECT_EQ((*e)[0].vhost, "/");
  EXPECT_EQ(describe_endpoints(*e), "amqp://ops@rabbit.example:5672/%2F");

  test::Argv tls{"pulse-guardian", "--url", "https://[::1]:15671", "--cacert", "/ca.pem"};
  p = parse_guardian_args(tls.argc(), tls.argv());
  ASSERT_TRUE(p.args) << p.message;
  e = notice_endpoints(*p.args);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)[0].host, "::1");
  EXPECT_EQ((*e)[0].port, 5671);
  EXPECT_TRUE((*e)[0].tls);
  EXPECT_EQ((*e)[0].tls_options.cacertfile, "/ca.pem");

  test::Argv list{"pulse-guardian", "--amqp-url", "amqp://a:b@n1/v,amqp://a:b@n2/v"};
  p = parse_guardian_args(list.argc(), list.argv());
  ASSERT_TRUE(p.args) << p.message;
  e = notice_endpoints(*p.args);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[1].host, "n2");
  EXPECT_EQ((*e)[1].vhost, "v");

  test::Argv none{"pulse-guardian", "--amqp-url", "none"};
  p = parse_guardian_args(none.argc(), none.argv());
  ASSERT_TRUE(p.args);
  e = notice_endpoints(*p.args);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
}

TEST(GuardianArgs, UsageErrors) {
  for (const auto& words : std::vector<std::vector<std::string>>{
           {"--url", "ftp://x"},
           {"--amqp-url", "ftp://x"},
           {"--log-level", "loud"},
           {"--timeout", "0"},
           {"--config", "/nonexistent/g.conf"},
           {"--bogus"},
           {"--listen", "nowhere"},
           {"--listen", "127.0.0.1:0", "--state-file", "s"},
           {"--listen", "127.0.0.1:15680"},
           {"--state-file", "s.json"},
           {"--web-dir", "/tmp"},  // only with --listen
           {"--listen", "15680", "--state-file", "s", "--web-dir", "/nonexistent/web"},
           {"--listen", "15680", "--state-file", "s", "--once"}}) {
    std::vector<const char*> argv{"pulse-guardian"};
    for (const auto& w : words) argv.push_back(w.c_str());
    auto p = parse_guardian_args(static_cast<int>(argv.size()), argv.data());
    EXPECT_FALSE(p.args) << words[0];
    EXPECT_EQ(p.exit_code, kExitUsage) << words[0];
    EXPECT_TRUE(p.message.starts_with("pulse-guardian: ")) << p.message;
  }
}

TEST(GuardianArgs, ListenWithAStateFile) {
  test::Argv argv{"pulse-guardian", "--listen", "15680", "--state-file", "/tmp/s.json"};
  auto p = parse_guardian_args(argv.argc(), argv.argv());
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->listen_host, "127.0.0.1");
  EXPECT_EQ(p.args->listen_port, 15680);
  EXPECT_EQ(p.args->state_file, "/tmp/s.json");
  EXPECT_EQ(p.args->web_dir, "");  // the default search (httpd/web_dir.h)
  test::Argv web{"pulse-guardian", "--listen", "15680", "--state-file", "s", "--web-dir", "/tmp"};
  p = parse_guardian_args(web.argc(), web.argv());
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->web_dir, "/tmp");
}

}  // namespace
}  // namespace pulse::tools
