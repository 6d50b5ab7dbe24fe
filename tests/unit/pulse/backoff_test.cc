#include "pulse/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace pulse {
namespace {

using std::chrono::milliseconds;

std::vector<int64_t> draws(Backoff& b, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(b.next().count());
  return out;
}

TEST(Backoff, DefaultsGrowFrom100msToA30sCap) {
  Backoff b({.jitter = 0.0});
  EXPECT_EQ(draws(b, 11), (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600,
                                                30000, 30000}));
  EXPECT_EQ(b.attempts(), 11u);
}

TEST(Backoff, CapHoldsHoweverLongTheBrokerStaysAway) {
  Backoff b(
      {.initial = milliseconds{250}, .max = milliseconds{5000}, .multiplier = 3.0, .jitter = 0.0});
  EXPECT_EQ(draws(b, 5), (std::vector<int64_t>{250, 750, 2250, 5000, 5000}));
  // Far past the point where multiplier^attempts would overflow a double.
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(b.next(), milliseconds{5000});
}

TEST(Backoff, JitterStaysWithinItsBounds) {
  BackoffOptions o;  // initial 100, multiplier 2, max 30000, jitter 0.5
  Backoff b(o, 7);
  double expected = 100;
  bool below_full = false;
  for (int i = 0; i < 200; ++i) {
    const auto d = b.next().count();
    const double full = std::min(expected, 30000.0);
    ASSERT_GE(d, static_cast<int64_t>(full * 0.5)) << "attempt " << i;
    ASSERT_LE(d, static_cast<int64_t>(full)) << "attempt " << i;
    below_full |= d < full;
    expected *= 2;
  }
  EXPECT_TRUE(below_full) << "jitter 0.5 never lowered a delay";
}

TEST(Backoff, JitterSpreadsClientsCutOffTogether) {
  // Many clients failing at the same moment must not all come back at the same moment.
  std::vector<int64_t> third;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Backoff b({}, seed);
    b.next();
    b.next();
    third.push_back(b.next().count());
  }
  std::sort(third.begin(), third.end());
  third.erase(std::unique(third.begin(), third.end()), third.end());
  EXPECT_GT(third.size(), 20u);
}

TEST(Backoff, ResetStartsAgainAtInitial) {
  Backoff b({.initial = milliseconds{50}, .jitter = 0.0});
  draws(b, 6);
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_EQ(draws(b, 3), (std::vector<int64_t>{50, 100, 200}));
}

TEST(Backoff, SameSeedSameSchedule) {
  Backoff a({}, 42), b({}, 42), c({}, 43);
  const auto sa = draws(a, 30), sb = draws(b, 30), sc = draws(c, 30);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Backoff, NeverZeroSoNeverABusyLoop) {
  Backoff zero({.initial = milliseconds{0}, .max = milliseconds{0}, .jitter = 1.0}, 3);
  for (int i = 0; i < 100; ++i) ASSERT_GE(zero.next(), milliseconds{1});
  // Out-of-range settings are clamped: a multiplier below 1 does not shrink the delay, jitter
  // above 1 draws from [0, d] (then at least 1 ms).
  Backoff flat({.initial = milliseconds{300}, .multiplier = 0.5, .jitter = 0.0});
  EXPECT_EQ(draws(flat, 3), (std::vector<int64_t>{300, 300, 300}));
  Backoff wide({.initial = milliseconds{1000}, .jitter = 7.0}, 9);
  for (int i = 0; i < 50; ++i) {
    const auto d = wide.next();
    ASSERT_GE(d, milliseconds{1});
    ASSERT_LE(d, milliseconds{30000});
  }
}

}  // namespace
}  // namespace pulse
