// pulse-translator's command line.
#include <gtest/gtest.h>

#include "argv.h"
#include "translator_args.h"

using pulse::tools::parse_translator_args;
using pulse::tools::translator_consumer_options;
using pulse::tools::test::Argv;

namespace {

auto parse(std::initializer_list<std::string> words) {
  Argv a(words);
  return parse_translator_args(a.argc(), a.argv(), nullptr, "build7");
}

TEST(TranslatorArgs, DefaultsArePulsetranslators) {
  auto p = parse({"pulse-translator"});
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->applabel, "pulse-build-translator-build7");
  EXPECT_EQ(p.args->user, "");
  EXPECT_EQ(p.args->log_check_interval.count(), 15);
  EXPECT_EQ(p.args->log_check_timeout.count(), 600);
  EXPECT_TRUE(p.args->log_check);
  EXPECT_FALSE(p.args->dry_run);
  auto o = translator_consumer_options(*p.args);
  EXPECT_TRUE(o.durable);
  EXPECT_EQ(o.applabel, "pulse-build-translator-build7");
  ASSERT_EQ(o.bindings.size(), 2u);
  EXPECT_EQ(o.bindings[0].exchange, "exchange/build/");
  EXPECT_EQ(o.bindings[0].topic, "#.finished");
  EXPECT_EQ(o.bindings[1].topic, "#.log_uploaded");
}

TEST(TranslatorArgs, QueueAndLogCheckOptions) {
  auto p = parse({"pulse-translator", "--queue", "queue/alice/tr", "--log-check-interval", "2",
                  "--log-check-timeout", "30", "--no-log-check", "--dry-run"});
  ASSERT_TRUE(p.args) << p.message;
  EXPECT_EQ(p.args->user, "alice");
  EXPECT_EQ(p.args->applabel, "tr");
  EXPECT_EQ(p.args->log_check_interval.count(), 2);
  EXPECT_EQ(p.args->log_check_timeout.count(), 30);
  EXPECT_FALSE(p.args->log_check);
  // A dry run reads a temporary queue: the durable one keeps its messages for the real thing.
  auto o = translator_consumer_options(*p.args);
  EXPECT_FALSE(o.durable);
  EXPECT_EQ(o.applabel, "");
}

TEST(TranslatorArgs, UsageErrors) {
  for (auto bad : {std::initializer_list<std::string>{"pulse-translator", "--queue", "tr"},
                   {"pulse-translator", "--queue", "queue/9bad/tr"},
                   {"pulse-translator", "--queue", "queue/alice/"},
                   {"pulse-translator", "--log-check-interval", "0"},
                   {"pulse-translator", "--uri", "ftp://x"},
                   {"pulse-translator", "--bogus"}}) {
    auto p = parse(bad);
    EXPECT_FALSE(p.args);
    EXPECT_EQ(p.exit_code, 2);
    EXPECT_EQ(p.message.rfind("pulse-translator: ", 0), 0u) << p.message;
  }
  auto help = parse({"pulse-translator", "--help"});
  EXPECT_FALSE(help.args);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.message.find("--log-check-timeout"), std::string::npos);
}

}  // namespace
