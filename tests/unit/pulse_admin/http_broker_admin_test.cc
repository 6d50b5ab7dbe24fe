#include "pulse/admin_http/http_broker_admin.h"

#include <gtest/gtest.h>

namespace pulse::admin {
namespace {

int64_t ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TEST(ParseApiTime, FormatsOfRabbitMqAndPulsed) {
  // 2026-12-05T11:22:27Z is 1796469747 s after the epoch.
  auto plain = parse_api_time("2026-12-05 11:22:27");
  ASSERT_TRUE(plain);
  EXPECT_EQ(ms(*plain), 1796469747000);
  auto iso = parse_api_time("2026-12-05T11:22:27.123+00:00");
  ASSERT_TRUE(iso);
  EXPECT_EQ(ms(*iso), 1796469747123);
  auto offset = parse_api_time("2026-12-05T12:22:27.5+01:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(ms(*offset), 1796469747500);
}

TEST(ParseApiTime, RefusesOtherTexts) {
  EXPECT_FALSE(parse_api_time(""));
  EXPECT_FALSE(parse_api_time("yesterday"));
  EXPECT_FALSE(parse_api_time("2026-12-05"));
}

}  // namespace
}  // namespace pulse::admin
