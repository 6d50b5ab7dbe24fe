#include "pulse/routing.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace pulse {
namespace {

const std::regex kUuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

TEST(RoutingKey, KeysPulsePublishersUse) {
  for (const char* key : {
           "heartbeat", "build.mozilla-central-linux64.105.log_uploaded",
           "unittest.mozilla-central.linux64.ubuntu64_vm.opt.mochitest-1.firefox.finished",
           // Taskcluster: missing words are "_".
           "primary.fN1SbArXTPSVFNUvaOlinQ.0.us-east1.5210928714826312312.proj-gecko.b-linux."
           "gecko-level-3.ZV5xLwq6Tx2ChGUhGNJ2Mw._",
           "route.index.gecko.v2.mozilla-central.latest", "bug.modify:status,resolution",
           "github.commit.mozilla.gecko-dev.refs/heads/master.someone@example.com",
           "integration/autoland",  // hg pushes: the repository path
       }) {
    EXPECT_TRUE(check_routing_key(key).ok()) << key;
  }
}

TEST(RoutingKey, EmptyAndDoubleDotAreRefusedAsMozillapulseDid) {
  auto empty = check_routing_key("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().text, "invalid routing key '': it is empty");
  auto dots = check_routing_key("build..finished");
  ASSERT_FALSE(dots.ok());
  EXPECT_EQ(dots.error().text, "invalid routing key 'build..finished': it contains '..'");
  EXPECT_FALSE(check_routing_key("a...b").ok());
  EXPECT_FALSE(check_routing_key("..").ok());
}

// The key travels in the envelope's _meta too, a JSON string: bytes that are not UTF-8 would
// be published as one key and read back as another (found by fuzz_bridge_ingress through
// pulse-bridge's X-Pulse-Routing-Key).
TEST(RoutingKey, KeysThatAreNotUtf8AreRefused) {
  for (const char* bad : {"a\xae"
                          "b.c",
                          "\xff", "key.\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    auto st = check_routing_key(bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().text.find("it is not UTF-8"), std::string::npos);
  }
  EXPECT_TRUE(check_routing_key("caf\xc3\xa9.\xe2\x82\xac.\xf0\x9f\x98\x80").ok());
}

TEST(RoutingKey, LeadingOrTrailingDotPassesAsInMozillapulse) {
  for (const char* key : {".build", "build.", "."}) {
    EXPECT_TRUE(check_routing_key(key).ok()) << key;
  }
}

TEST(RoutingKey, AtMost255Bytes) {
  EXPECT_TRUE(check_routing_key(std::string(255, 'k')).ok());
  auto st = check_routing_key(std::string(256, 'k'));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().text.find("longer than 255 bytes"), std::string::npos);
  EXPECT_EQ(st.error().code, 0);
}

TEST(CcRoutes, TaskclusterRoutePrefix) {
  EXPECT_EQ(cc_routes({"index.gecko.v2.latest", "tc-treeherder.v2.autoland.abc123"}),
            (std::vector<std::string>{"route.index.gecko.v2.latest",
                                      "route.tc-treeherder.v2.autoland.abc123"}));
  EXPECT_TRUE(cc_routes({}).empty());
}

TEST(UserName, PulseGuardianRule) {
  for (const char* ok : {"a", "alice", "Bob", "build.bot_2-x", "z9"}) {
    EXPECT_TRUE(valid_user_name(ok)) << ok;
  }
  for (const char* bad :
       {"", "9lives", "_x", ".x", "-x", "a b", "a/b", "a@b", "caf\xC3\xA9", "a*", "queue/a"}) {
    EXPECT_FALSE(valid_user_name(bad)) << bad;
  }
}

TEST(QueueName, WithApplabel) {
  EXPECT_EQ(consumer_queue_name("alice", "translator"), "queue/alice/translator");
  EXPECT_EQ(consumer_queue_name("alice", "pulse-build-translator-host1"),
            "queue/alice/pulse-build-translator-host1");
}

TEST(QueueName, WithoutApplabelIsAFreshUuid) {
  const std::string a = consumer_queue_name("alice", "");
  const std::string b = consumer_queue_name("alice", "");
  ASSERT_EQ(a.rfind("queue/alice/", 0), 0u) << a;
  EXPECT_TRUE(std::regex_match(a.substr(12), kUuid4)) << a;
  EXPECT_NE(a, b);
}

TEST(Uuid4, FormatAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string u = uuid4();
    ASSERT_EQ(u.size(), 36u);
    ASSERT_TRUE(std::regex_match(u, kUuid4)) << u;
    seen.insert(std::move(u));
  }
  EXPECT_EQ(seen.size(), 2000u);
}

}  // namespace
}  // namespace pulse
