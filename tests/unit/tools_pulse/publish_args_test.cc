#include "publish_args.h"

#include <gtest/gtest.h>

#include "argv.h"
#include "counts.h"

namespace pulse::tools {
namespace {

using test::Argv;

Parsed<PublishArgs> parse(std::initializer_list<std::string> words, const char* env = nullptr) {
  Argv argv(words);
  return parse_publish_args(argv.argc(), argv.argv(), env);
}

TEST(PublishArgs, Defaults) {
  auto p = parse({"pulse-publish", "--exchange", "exchange/me/x", "--routing-key", "a.b"});
  ASSERT_TRUE(p.args) << p.message;
  const PublishArgs& a = *p.args;
  EXPECT_TRUE(a.envelope);
  EXPECT_TRUE(a.persistent);
  EXPECT_TRUE(a.declare);
  EXPECT_EQ(a.deadline, std::chrono::milliseconds(12000));
  EXPECT_TRUE(a.file.empty());
  ASSERT_EQ(a.endpoints.size(), 1u);
  EXPECT_EQ(a.endpoints[0].port, 5672);
  const PublishOptions o = publish_options(a);
  EXPECT_TRUE(o.persistent);
  // content_type application/json and content_encoding utf-8 are the Publisher's defaults.
  EXPECT_FALSE(o.properties.has(amqp::BasicProperties::kContentType));
}

TEST(PublishArgs, Options) {
  auto p = parse({"pulse-publish", "--exchange", "e", "--routing-key", "k", "--no-envelope",
                  "--transient", "--file", "in.jsonl", "--route", "index.a", "--route", "b",
                  "--deadline", "500", "--no-declare", "--uri", "amqp://h:9/"},
                 "amqp://env:1/");
  ASSERT_TRUE(p.args) << p.message;
  const PublishArgs& a = *p.args;
  EXPECT_FALSE(a.envelope);
  EXPECT_FALSE(a.persistent);
  EXPECT_FALSE(a.declare);
  EXPECT_EQ(a.file, "in.jsonl");
  EXPECT_EQ(a.routes, (std::vector<std::string>{"index.a", "b"}));
  EXPECT_EQ(a.endpoints[0].host, "h");
  const PublisherOptions po = publisher_options(a);
  EXPECT_EQ(po.deadline, std::chrono::milliseconds(500));
  EXPECT_FALSE(po.declare_exchanges);
  EXPECT_FALSE(publish_options(a).persistent);
}

TEST(PublishArgs, PulseUriFromTheEnvironment) {
  auto p =
      parse({"pulse-publish", "--exchange", "e", "--routing-key", "k"}, "amqp://a:1/;amqp://b:2/");
  ASSERT_TRUE(p.args) << p.message;
  ASSERT_EQ(p.args->endpoints.size(), 2u);
  EXPECT_EQ(p.args->endpoints[1].host, "b");
}

void expect_usage(const Parsed<PublishArgs>& p, std::string_view fragment) {
  EXPECT_FALSE(p.args);
  EXPECT_EQ(p.exit_code, kExitUsage);
  EXPECT_NE(p.message.find(fragment), std::string::npos) << p.message;
}

TEST(PublishArgs, UsageErrors) {
  expect_usage(parse({"pulse-publish", "--routing-key", "k"}), "--exchange is required");
  expect_usage(parse({"pulse-publish", "--exchange", "e"}), "--routing-key is required");
  expect_usage(parse({"pulse-publish", "--exchange", "e", "--routing-key", "a..b"}), "a..b");
  expect_usage(parse({"pulse-publish", "--exchange", "e", "--routing-key", ""}), "routing key");
  expect_usage(parse({"pulse-publish", "--exchange", "e", "--routing-key", "k", "--persistent",
                      "--transient"}),
               "excludes");
  expect_usage(parse({"pulse-publish", "--exchange", "e", "--routing-key", "k", "--deadline", "0"}),
               "--deadline");
  expect_usage(parse({"pulse-publish", "--exchange", "e", "--routing-key", "k", "--route", "x..y"}),
               "--route");
  expect_usage(parse({"pulse-publish", "--exchange", "e", "--routing-key", "k"}, "amqp://h:x/"),
               "PULSE_URI");
}

TEST(PublishArgs, Help) {
  auto p = parse({"pulse-publish", "--help"});
  EXPECT_FALSE(p.args);
  EXPECT_EQ(p.exit_code, kExitOk);
  EXPECT_NE(p.message.find("--routing-key"), std::string::npos);
}

TEST(PublishCounts, SummaryAndExitStatus) {
  PublishCounts c{.lines = 3, .published = 3, .confirmed = 3, .failed = 0};
  EXPECT_EQ(summary_text(c), "3 published, 3 confirmed, 0 failed");
  EXPECT_EQ(exit_status(c), kExitOk);
  c = {.lines = 3, .published = 2, .confirmed = 2, .failed = 1};
  EXPECT_EQ(exit_status(c), kExitFailure);
  EXPECT_EQ(exit_status(PublishCounts{}), kExitOk);  // nothing to publish
}

TEST(PublishCounts, LinesMustBeJson) {
  EXPECT_FALSE(json_error(R"({"a": [1, 2]})"));
  EXPECT_FALSE(json_error("17"));
  auto why = json_error("{\"a\": ");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("parse error at line 1", 0), 0u) << *why;
  EXPECT_TRUE(json_error("not json"));
  EXPECT_TRUE(json_error("\"bad \xff utf-8\""));
  // nlohmann throws out_of_range, not parse_error, for a number no double holds.
  auto huge = json_error(R"({"n": 1e400})");
  ASSERT_TRUE(huge);
  EXPECT_NE(huge->find("number overflow"), std::string::npos) << *huge;
}

TEST(PublishCounts, TrimLine) {
  EXPECT_EQ(trim_line("{}\r"), "{}");
  EXPECT_EQ(trim_line(" \t\r"), "");
  EXPECT_EQ(trim_line(""), "");
  EXPECT_EQ(trim_line(" 1 "), " 1 ");
}

}  // namespace
}  // namespace pulse::tools
