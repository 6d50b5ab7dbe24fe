#include "base/rfc3339.h"

#include <gtest/gtest.h>

namespace pulse {
namespace {

using namespace std::chrono;

const SystemTime kT = SystemTime(seconds(1'800'000'000));  // 2027-01-15T08:00:00Z

// Every form the Pulse API, the accounts records and pulsed's own stamps use.
TEST(Rfc3339, ReadsStrictForms) {
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00Z"), kT);
  EXPECT_EQ(parse_rfc3339("2027-01-15t08:00:00z"), kT);
  EXPECT_EQ(parse_rfc3339("2027-01-15T09:30:00+01:30"), kT);
  EXPECT_EQ(parse_rfc3339("2027-01-15T07:00:00-01:00"), kT);
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00+00:00"), kT);
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00.5Z"), kT + milliseconds(500));
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00.123Z"), kT + milliseconds(123));  // accounts
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00.000000001Z"), kT + nanoseconds(1));
  EXPECT_EQ(parse_rfc3339("2027-01-15T08:00:00.1234567891Z"), kT + nanoseconds(123456789));
  EXPECT_EQ(parse_rfc3339("2028-02-29T00:00:00Z"), SystemTime(sys_days(2028y / 2 / 29)));
  EXPECT_EQ(parse_rfc3339("2027-01-15T07:59:60Z"), kT);  // a leap second
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), SystemTime(seconds(-1)));
}

TEST(Rfc3339, RefusesOtherTexts) {
  for (const char* bad : {"",
                          "yesterday",
                          "2027-01-15",
                          "2027-01-15T08:00:00",
                          "2027-01-15 08:00:00Z",
                          "2027-01-15T8:00:00Z",
                          "2027-1-15T08:00:00Z",
                          "27-01-15T08:00:00Z",
                          "2027-13-01T00:00:00Z",
                          "2027-00-01T00:00:00Z",
                          "2027-02-29T00:00:00Z",
                          "2027-04-31T00:00:00Z",
                          "2027-01-00T00:00:00Z",
                          "2027-01-15T24:00:00Z",
                          "2027-01-15T08:60:00Z",
                          "2027-01-15T08:00:61Z",
                          "2027-01-15T08:00:00.Z",
                          "2027-01-15T08:00:00+0100",
                          "2027-01-15T08:00:00+01",
                          "2027-01-15T08:00:00+24:00",
                          "2027-01-15T08:00:00+01:60",
                          "2027-01-15T08:00:00Zjunk",
                          "2027-01-15T08:00:00Z ",
                          " 2027-01-15T08:00:00Z",
                          "+2027-01-15T08:00:00Z",
                          "2027-01-15T08:00:00.5"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

// Years the clock (64-bit nanoseconds) cannot hold are refused, not wrapped around (found by
// fuzz_http_api: POST /api/pulse/namespaces/x {"expires": "9226-01-01T00:00:00Z"}).
TEST(Rfc3339, RefusesTimesTheClockCannotHold) {
  for (const char* bad : {"9226-01-01T00:00:00Z", "2263-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                          "1677-01-01T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
    EXPECT_FALSE(parse_management_time(bad)) << bad;
  }
  EXPECT_EQ(parse_rfc3339("2262-01-01T00:00:00Z"), SystemTime(sys_days(2262y / 1 / 1)));
  EXPECT_EQ(parse_rfc3339("1678-01-01T00:00:00Z"), SystemTime(sys_days(1678y / 1 / 1)));
}

// RabbitMQ's texts: 3.10's and pulsed's ISO form, older versions' now_to_str.
TEST(ManagementTime, ReadsRabbitMqForms) {
  EXPECT_EQ(parse_management_time("2027-01-15 08:00:00"), kT);
  EXPECT_EQ(parse_management_time("2027-01-15 8:00:00"), kT);  // the hour is not padded
  EXPECT_EQ(parse_management_time("2027-01-15T08:00:00"), kT);
  EXPECT_EQ(parse_management_time("2027-01-15T08:00:00.123+00:00"), kT + milliseconds(123));
  EXPECT_EQ(parse_management_time("2027-01-15T09:00:00.5+01:00"), kT + milliseconds(500));
  EXPECT_EQ(parse_management_time("2027-01-15T09:00:00+0100"), kT);
  EXPECT_EQ(parse_management_time("2027-01-15T09:00:00+01"), kT);
  EXPECT_EQ(parse_management_time("2027-01-15T07:00:00-01"), kT);
  EXPECT_EQ(parse_management_time("2027-01-15T08:00:00Z"), kT);
}

// The texts pulse-guardian's HTTP backend reads in a queue's idle_since.
TEST(ManagementTime, ReadsIdleSince) {
  const SystemTime t = SystemTime(seconds(1796469747));  // 2026-12-05T11:22:27Z
  EXPECT_EQ(parse_management_time("2026-12-05 11:22:27"), t);
  EXPECT_EQ(parse_management_time("2026-12-05T11:22:27.123+00:00"), t + milliseconds(123));
  EXPECT_EQ(parse_management_time("2026-12-05T12:22:27.5+01:00"), t + milliseconds(500));
}

TEST(ManagementTime, RefusesOtherTexts) {
  for (const char* bad :
       {"", "yesterday", "2027-01-15", "2027-01-15 08:00", "2027-02-30 08:00:00",
        "2027-01-15 08:00:00.", "2027-01-15 08:00:00+01:", "2027-01-15 08:00:00+1",
        "2027-01-15 08:00:00 junk", "2027-01-15_08:00:00"})
    EXPECT_FALSE(parse_management_time(bad)) << bad;
}

TEST(Rfc3339, FormatsUtc) {
  EXPECT_EQ(format_rfc3339_utc(kT), "2027-01-15T08:00:00Z");
  EXPECT_EQ(format_rfc3339_utc(kT + milliseconds(999)), "2027-01-15T08:00:00Z");  // truncated
  EXPECT_EQ(format_rfc3339_utc(kT + milliseconds(7), 3), "2027-01-15T08:00:00.007Z");
  EXPECT_EQ(format_rfc3339_utc(kT + nanoseconds(1), 9, "+00:00"),
            "2027-01-15T08:00:00.000000001+00:00");
  EXPECT_EQ(format_rfc3339_utc(SystemTime(milliseconds(-1)), 3), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_utc(SystemTime{}, 0, "+00:00"), "1970-01-01T00:00:00+00:00");
}

TEST(Rfc3339, FormattedTextsReadBack) {
  const SystemTime t = kT + milliseconds(42);
  EXPECT_EQ(parse_rfc3339(format_rfc3339_utc(t, 3)), t);
  EXPECT_EQ(parse_management_time(format_rfc3339_utc(t, 3, "+00:00")), t);
}

}  // namespace
}  // namespace pulse
