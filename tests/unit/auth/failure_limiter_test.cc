#include "auth/failure_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace pulse::auth {
namespace {

using namespace std::chrono_literals;
using Clock = FailureLimiter::Clock;

FailureLimitOptions opts(uint32_t max, size_t tracked = 100) {
  FailureLimitOptions o;
  o.max_failures = max;
  o.window = 10s;
  o.block_for = 30s;
  o.max_tracked = tracked;
  return o;
}

TEST(FailureLimiter, BlocksAfterLimitWithinWindowOnlyThatAddress) {
  FailureLimiter l(opts(3));
  auto t = Clock::time_point{} + 1h;
  l.record_failure("10.0.0.1", t);
  l.record_failure("10.0.0.1", t + 1s);
  EXPECT_FALSE(l.blocked("10.0.0.1", t + 2s));
  l.record_failure("10.0.0.1", t + 2s);
  EXPECT_TRUE(l.blocked("10.0.0.1", t + 2s));
  EXPECT_FALSE(l.blocked("10.0.0.2", t + 2s));
  // The block runs out.
  EXPECT_TRUE(l.blocked("10.0.0.1", t + 31s));
  EXPECT_FALSE(l.blocked("10.0.0.1", t + 33s));
}

TEST(FailureLimiter, FailuresSpreadOverMoreThanTheWindowDoNotBlock) {
  FailureLimiter l(opts(3));
  auto t = Clock::time_point{} + 1h;
  l.record_failure("a", t);
  l.record_failure("a", t + 5s);
  l.record_failure("a", t + 11s);  // a new window: the first two no longer count
  l.record_failure("a", t + 12s);
  EXPECT_FALSE(l.blocked("a", t + 12s));
  l.record_failure("a", t + 13s);
  EXPECT_TRUE(l.blocked("a", t + 13s));
}

TEST(FailureLimiter, ZeroLimitNeverBlocksNorRemembers) {
  FailureLimiter l(opts(0));
  auto t = Clock::time_point{} + 1h;
  for (int i = 0; i < 100; ++i) l.record_failure("a", t);
  EXPECT_FALSE(l.blocked("a", t));
  EXPECT_EQ(l.tracked(), 0u);
}

TEST(FailureLimiter, MemoryIsBoundedAndForgetsTheOldestFirst) {
  FailureLimiter l(opts(2, 8));
  auto t = Clock::time_point{} + 1h;
  // "blocked" is blocked, then many other addresses fail once each (later).
  l.record_failure("blocked", t);
  l.record_failure("blocked", t);
  for (int i = 0; i < 1000; ++i) {
    l.record_failure("addr" + std::to_string(i), t + 1ms * (i + 1));
    EXPECT_LE(l.tracked(), 8u);
  }
  EXPECT_EQ(l.tracked(), 8u);
  // The oldest entry was evicted to make room (a bound must hold even under attack).
  EXPECT_FALSE(l.blocked("blocked", t + 2s));
  // The newest ones are still counted: one more failure blocks them.
  l.record_failure("addr999", t + 2s);
  EXPECT_TRUE(l.blocked("addr999", t + 2s));
}

TEST(FailureLimiter, ExpiredEntriesAreReusedBeforeLiveOnes) {
  FailureLimiter l(opts(2, 2));
  auto t = Clock::time_point{} + 1h;
  l.record_failure("old", t);
  l.record_failure("live", t + 50s);
  l.record_failure("live", t + 50s);  // blocked until t+80s
  l.record_failure("new", t + 51s);   // "old" expired: it goes, "live" stays blocked
  EXPECT_TRUE(l.blocked("live", t + 51s));
  EXPECT_EQ(l.tracked(), 2u);
}

}  // namespace
}  // namespace pulse::auth
