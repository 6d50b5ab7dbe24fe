// pulse-logparser's command line.
#include "logparser_args.h"

#include <gtest/gtest.h>

namespace pulse::tools {
namespace {

Parsed<LogparserArgs> parse_lp(std::vector<const char*> argv, const char* env = nullptr) {
  argv.insert(argv.begin(), "pulse-logparser");
  return parse_logparser_args(static_cast<int>(argv.size()), argv.data(), env);
}

TEST(LogparserArgs, Defaults) {
  auto p = parse_lp({});
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->exchange, "exchange/build/normalized");
  EXPECT_EQ(p.args->topics, (std::vector<std::string>{"unittest.#", "talos.#"}));
  EXPECT_EQ(p.args->output_exchange, "exchange/logparser/v1");
  EXPECT_EQ(p.args->applabel, "pulse-logparser");
  EXPECT_EQ(p.args->queue_user, "");
  EXPECT_EQ(p.args->jobs, 4u);
  EXPECT_EQ(p.args->prefetch, 8);
  EXPECT_EQ(p.args->fetch.max_bytes, 100ull << 20);
  EXPECT_EQ(p.args->parser.max_failures, 100u);
  EXPECT_FALSE(p.args->dry_run);
  ASSERT_EQ(p.args->endpoints.size(), 1u);
  EXPECT_EQ(p.args->endpoints[0].port, 5672);
}

TEST(LogparserArgs, Options) {
  auto p =
      parse_lp({"--uri", "amqp://u:p@h:1234/v", "--queue", "queue/me/lp", "--jobs", "2", "--topic",
                "unittest.mozilla-central.#", "--max-log-bytes", "1000", "--max-failures", "5",
                "--retry-delay", "10", "--fetch-attempts", "2", "--dry-run"});
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->queue_user, "me");
  EXPECT_EQ(p.args->applabel, "lp");
  EXPECT_TRUE(p.args->queue_given);
  EXPECT_EQ(p.args->prefetch, 4);
  EXPECT_EQ(p.args->topics, (std::vector<std::string>{"unittest.mozilla-central.#"}));
  EXPECT_EQ(p.args->fetch.max_bytes, 1000u);
  EXPECT_EQ(p.args->fetch.retry_delay.count(), 10);
  EXPECT_EQ(p.args->fetch.attempts, 2u);
  EXPECT_EQ(p.args->parser.max_failures, 5u);
  EXPECT_TRUE(p.args->dry_run);
  EXPECT_EQ(p.args->endpoints[0].port, 1234);
}

TEST(LogparserArgs, UsageErrors) {
  for (auto argv : std::vector<std::vector<const char*>>{{"--queue", "myqueue"},
                                                         {"--queue", "queue/1bad/x"},
                                                         {"--jobs", "0"},
                                                         {"--max-log-bytes", "0"},
                                                         {"--log-level", "loud"},
                                                         {"--bogus"}}) {
    auto p = parse_lp(argv);
    EXPECT_FALSE(p.args) << argv[0];
    EXPECT_EQ(p.exit_code, kExitUsage) << argv[0];
    EXPECT_EQ(p.message.rfind("pulse-logparser: ", 0), 0u) << p.message;
  }
}

TEST(LogparserArgs, Help) {
  auto p = parse_lp({"--help"});
  EXPECT_FALSE(p.args);
  EXPECT_EQ(p.exit_code, kExitOk);
  EXPECT_NE(p.message.find("--max-log-bytes"), std::string::npos);
  EXPECT_NE(p.message.find("--dry-run"), std::string::npos);
}

}  // namespace
}  // namespace pulse::tools
