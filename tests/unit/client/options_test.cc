#include <gtest/gtest.h>

#include "client/confirm_tracker.h"
#include "client/options.h"

namespace pulse::client {
namespace {

TEST(Uri, FullForm) {
  auto o = parse_uri(
      "amqp://al%40ice:p%3Ass@broker.example:5673/"
      "pulse%2Ftest?heartbeat=5&frame_max=8192&channel_max=9");
  ASSERT_TRUE(o.ok()) << o.error().text;
  EXPECT_EQ(o->user, "al@ice");
  EXPECT_EQ(o->password, "p:ss");
  EXPECT_EQ(o->host, "broker.example");
  EXPECT_EQ(o->port, 5673);
  EXPECT_EQ(o->vhost, "pulse/test");
  EXPECT_EQ(o->heartbeat, 5);
  EXPECT_EQ(o->frame_max, 8192u);
  EXPECT_EQ(o->channel_max, 9);
}

TEST(Uri, DefaultsAndSlashVhost) {
  auto o = parse_uri("amqp://localhost");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "localhost");
  EXPECT_EQ(o->port, 5672);
  EXPECT_EQ(o->vhost, "/");
  EXPECT_EQ(o->user, "guest");
  EXPECT_FALSE(o->heartbeat.has_value());
  EXPECT_EQ(parse_uri("amqp://h/")->vhost, "/");
  EXPECT_EQ(parse_uri("amqp://h/%2F")->vhost, "/");
  EXPECT_EQ(parse_uri("amqp://u@h")->user, "u");
  EXPECT_EQ(parse_uri("amqp://[::1]:5999")->host, "::1");
  EXPECT_EQ(parse_uri("amqp://[::1]:5999")->port, 5999);
}

TEST(Uri, Errors) {
  EXPECT_FALSE(parse_uri("http://h").ok());
  EXPECT_FALSE(parse_uri("amqp://h:port").ok());
  EXPECT_FALSE(parse_uri("amqp://h:0").ok());
  EXPECT_FALSE(parse_uri("amqp://h/%zz").ok());
  EXPECT_FALSE(parse_uri("amqp://h/%2").ok());
  EXPECT_FALSE(parse_uri("amqp://h?heartbeet=1").ok());
  EXPECT_FALSE(parse_uri("amqp://h?heartbeat=x").ok());
}

TEST(ConfirmTracker, SingleMultipleAndUnknownTags) {
  ConfirmTracker t;
  for (int i = 0; i < 5; ++i) t.add();
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  auto rec = [&](uint64_t a, uint64_t b) { runs.emplace_back(a, b); };
  t.settle(3, false, rec);
  t.settle(3, false, rec);   // twice: ignored
  t.settle(99, false, rec);  // beyond what was published: clamped to 5
  t.settle(4, true, rec);
  EXPECT_EQ(t.outstanding(), 0u);
  using P = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(runs, (std::vector<P>{P{3, 3}, P{5, 5}, P{1, 2}, P{4, 4}}));
  t.settle(2, true, rec);  // all settled already
  EXPECT_EQ(runs.size(), 4u);
  EXPECT_EQ(t.add(), 6u);
}

TEST(ConfirmTracker, NothingPublished) {
  ConfirmTracker t;
  bool called = false;
  t.settle(1, true, [&](uint64_t, uint64_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace pulse::client
