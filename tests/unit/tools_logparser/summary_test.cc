// The summary of a job and its routing key, from a normalized test message.
#include "summary.h"

#include <gtest/gtest.h>

namespace pulse::logparser {
namespace {

nlohmann::json normalized() {
  return nlohmann::json::parse(R"({
    "key": "unittest.mozilla-central.linux64.ubuntu64_vm.opt.mochitest-3.firefox.finished",
    "tree": "mozilla-central", "platform": "linux64", "os": "ubuntu64_vm", "buildtype": "opt",
    "test": "mochitest-3", "talos": false, "product": "firefox",
    "buildername": "Ubuntu VM 12.04 x64 mozilla-central opt test mochitest-3",
    "build_number": 105, "buildid": "20141201020203", "revision": "0b2c5f3a7d6e",
    "logurl": "http://example.test/logs/mochitest-3.txt.gz", "status": 1,
    "slave": "tst-linux64-spot-1234", "timestamp": "2014-12-01T03:40:15Z", "locale": "en-US",
    "job_number": 2, "testsurl": "http://example.test/tests.zip"})");
}

TEST(Summary, RoutingKeyAndIdentity) {
  auto job = job_from_normalized(normalized(), "unittest.mozilla-central.x.finished");
  ASSERT_TRUE(job) << job.error().text;
  EXPECT_EQ(job->routing_key, "mozilla-central.linux64.opt.mochitest-3");
  EXPECT_EQ(job->logurl, "http://example.test/logs/mochitest-3.txt.gz");
  EXPECT_EQ(job->identity["build_number"], 105);
  EXPECT_EQ(job->identity["job_key"], "unittest.mozilla-central.x.finished");
  EXPECT_FALSE(job->identity.contains("testsurl"));
}

TEST(Summary, RoutingKeyWordsAreMadeSafe) {
  auto n = normalized();
  n["tree"] = "release-mozilla-1.9.2";
  n["test"] = "reftest #1 *";
  n.erase("buildtype");
  n["platform"] = "";
  auto job = job_from_normalized(n, "k");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->routing_key, "release-mozilla-1_9_2._._.reftest__1__");
  EXPECT_EQ(key_word(std::string(100, 'a')).size(), 60u);
}

TEST(Summary, NotANormalizedMessage) {
  EXPECT_FALSE(job_from_normalized(nlohmann::json::array(), "k"));
  EXPECT_FALSE(job_from_normalized(nlohmann::json{{"platform", "linux"}}, "k"));
}

TEST(Summary, PayloadCarriesFailuresCountsAndFetch) {
  auto job = job_from_normalized(normalized(), "k");
  ASSERT_TRUE(job);
  ParserOptions o;
  o.max_failures = 1;
  const Parser p = parse_log(
      "TEST-UNEXPECTED-FAIL | a.html | x\nPROCESS-CRASH | a.html | application crashed [@ f]\n", o);
  FetchInfo f;
  f.bytes = 80;
  f.wire_bytes = 60;
  f.attempts = 2;
  f.http_status = 200;
  f.gzip = "file";
  const auto s = summary_payload(*job, f, "", &p);
  EXPECT_EQ(s["failures"],
            nlohmann::json::parse(
                R"([{"line":1,"kind":"unexpected-fail","test":"a.html","message":"x"}])"));
  EXPECT_EQ(s["counts"]["failures"], 2);
  EXPECT_EQ(s["counts"]["crashes"], 1);
  EXPECT_EQ(s["truncated"], true);
  EXPECT_EQ(s["fetch"]["gzip"], "file");
  EXPECT_EQ(s["fetch"]["attempts"], 2);
  EXPECT_TRUE(s["error"].is_null());
  EXPECT_EQ(s["tree"], "mozilla-central");
}

TEST(Summary, ErrorSummaryHasNoFailures) {
  auto job = job_from_normalized(normalized(), "k");
  ASSERT_TRUE(job);
  const auto s = summary_payload(*job, {}, "HTTP 404", nullptr);
  EXPECT_EQ(s["error"], "HTTP 404");
  EXPECT_TRUE(s["failures"].empty());
  EXPECT_EQ(s["truncated"], false);
}

}  // namespace
}  // namespace pulse::logparser
