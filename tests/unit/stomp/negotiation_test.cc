// Version and heart-beat negotiation, table-driven against RabbitMQ 3.10's choices.
#include <gtest/gtest.h>

#include "stomp/negotiation.h"

namespace pulse::stomp {
namespace {

TEST(StompVersion, PicksTheHighestCommonVersion) {
  struct Row {
    std::optional<std::string> header;
    Version expected;
  };
  std::vector<Row> rows = {
      {std::nullopt, Version::v1_0}, {"1.0", Version::v1_0},         {"1.1", Version::v1_1},
      {"1.2", Version::v1_2},        {"1.0,1.1,1.2", Version::v1_2}, {"1.2,1.0", Version::v1_2},
      {"1.1,2.0", Version::v1_1},    {"1.0,,1.1", Version::v1_1},    {"0.9,1.0", Version::v1_0},
      {"1.3,1.2", Version::v1_2},
  };
  for (const auto& r : rows) {
    auto v = negotiate_version(r.header ? &*r.header : nullptr);
    ASSERT_TRUE(v.ok()) << r.header.value_or("(none)");
    EXPECT_EQ(*v, r.expected) << r.header.value_or("(none)");
  }
}

TEST(StompVersion, MismatchAsRabbitMqWordsIt) {
  for (std::string bad : {"", "2.0", "1.1 ", " 1.2", "1.0;1.1", "1.20", "v1.2"}) {
    auto v = negotiate_version(&bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.error().message, "Version mismatch");
    EXPECT_EQ(v.error().detail, "Supported versions are 1.0,1.1,1.2\n");
  }
}

TEST(StompVersion, Names) {
  EXPECT_EQ(version_name(Version::v1_0), "1.0");
  EXPECT_EQ(version_name(Version::v1_1), "1.1");
  EXPECT_EQ(version_name(Version::v1_2), "1.2");
}

TEST(StompHeartBeat, Parses) {
  struct Row {
    const char* text;
    HeartBeat expected;
  };
  for (const Row& r :
       std::vector<Row>{{"0,0", {0, 0}},
                        {"1000,2000", {1000, 2000}},
                        {"+5,-7", {5, 0}},
                        {"-1,10", {0, 10}},
                        {"99999999999999999999,1", {static_cast<uint64_t>(INT64_MAX), 1}}}) {
    auto hb = parse_heart_beat(r.text);
    ASSERT_TRUE(hb.ok()) << r.text;
    EXPECT_EQ(*hb, r.expected) << r.text;
  }
}

TEST(StompHeartBeat, RejectsMalformed) {
  for (const char* bad : {"", "10", "10,", ",10", "a,b", "1,2,3", " 1,2", "1, 2", "1.5,2", "-,1"}) {
    auto hb = parse_heart_beat(bad);
    ASSERT_FALSE(hb.ok()) << bad;
    EXPECT_EQ(hb.error().message, "Invalid heart-beat");
    EXPECT_EQ(hb.error().detail,
              std::string("heart-beat must be two comma-separated integers (milliseconds), got '") +
                  bad + "'");
  }
}

TEST(StompHeartBeat, NegotiatesAsRabbitMq) {
  // RabbitMQ (server {1,1}): sends every cy and expects cx, each rounded to whole seconds.
  struct Row {
    HeartBeat client;
    HeartBeatTiming expected;
    const char* header;
  };
  for (const Row& r : std::vector<Row>{{{0, 0}, {0, 0}, "0,0"},
                                       {{10000, 20000}, {20000, 10000}, "20000,10000"},
                                       {{1, 999}, {1000, 1000}, "1000,1000"},
                                       {{1500, 0}, {0, 1000}, "0,1000"},
                                       {{0, 2999}, {2000, 0}, "2000,0"}}) {
    HeartBeatTiming t = negotiate_heart_beat(r.client);
    EXPECT_EQ(t, r.expected) << r.client.cx << "," << r.client.cy;
    EXPECT_EQ(t.heart_beat(), r.header);
  }
}

TEST(StompHeartBeat, ServerPreferenceWins) {
  // sx=5000: the server sends no more often than every 5 s; sy=0: it wants nothing.
  EXPECT_EQ(negotiate_heart_beat({1000, 1000}, {5000, 0}), (HeartBeatTiming{5000, 0}));
  EXPECT_EQ(negotiate_heart_beat({1000, 10000}, {5000, 3000}), (HeartBeatTiming{10000, 3000}));
  EXPECT_EQ(negotiate_heart_beat({1000, 1000}, {0, 0}), (HeartBeatTiming{0, 0}));
}

}  // namespace
}  // namespace pulse::stomp
