// The request helpers: targets, RFC 3339 times.
#include <gtest/gtest.h>

#include "pulse/api/request.h"

namespace pulse::api {
namespace {

TEST(PulseApiRequest, TargetsSplitBeforeDecoding) {
  ApiRequest r;
  ASSERT_TRUE(parse_target("/guardian/unbounded/%2F/queue%2Fa%2Fq?since=3&owner=a+b", r));
  EXPECT_EQ(r.segments, (std::vector<std::string>{"guardian", "unbounded", "/", "queue/a/q"}));
  EXPECT_EQ(r.query.at("since"), "3");
  EXPECT_EQ(r.query.at("owner"), "a b");
  EXPECT_FALSE(parse_target("/users/%", r));
  EXPECT_FALSE(parse_target("/users/%4", r));
  EXPECT_FALSE(parse_target("/users/%zz", r));
}

TEST(PulseApiRequest, Rfc3339) {
  using admin::Clock;
  const auto t = Clock::from_time_t(1'800'000'000);  // 2027-01-15T08:00:00Z
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00Z"), t);
  EXPECT_EQ(parse_rfc3339("2027-01-15t08:00:00z"), t);
  EXPECT_EQ(parse_rfc3339("2027-01-15T09:30:00+01:30"), t);
  EXPECT_EQ(parse_rfc3339("2027-01-15T07:00:00-01:00"), t);
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00.5Z"), t + std::chrono::milliseconds(500));
  for (const char* bad : {"", "2027-01-15", "2027-01-15T08:00:00", "2027-01-15 08:00:00Z",
                          "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z", "2027-01-15T08:00:00.Z",
                          "2027-01-15T08:00:00+0100", "2027-01-15T08:00:00Zjunk"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  EXPECT_EQ(format_rfc3339(t), "2027-01-15T08:00:00Z");
}

}  // namespace
}  // namespace pulse::api
