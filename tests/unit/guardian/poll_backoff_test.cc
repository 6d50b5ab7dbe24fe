#include "pulse/guardian/poll_backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace pulse::guardian {
namespace {

using std::chrono::seconds;

std::vector<long> delays_after_errors(PollBackoff& b, int n) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) out.push_back(b.on_error().delay.count());
  return out;
}

TEST(PollBackoff, PulseGuardiansSchedule) {
  PollBackoff b;  // 5 s, up to 300 s
  EXPECT_EQ(b.on_success(), seconds(5));
  auto first = b.on_error();
  EXPECT_EQ(first.delay, seconds(10));
  EXPECT_TRUE(first.notify_admins);
  auto second = b.on_error();
  EXPECT_EQ(second.delay, seconds(15));
  EXPECT_FALSE(second.notify_admins);
  auto more = delays_after_errors(b, 60);  // errors 3..62
  EXPECT_EQ(more[0], 20);
  EXPECT_EQ(more[55], 295);  // error 58
  EXPECT_EQ(more[56], 300);  // error 59
  EXPECT_EQ(more[59], 300);
  EXPECT_EQ(b.consecutive_errors(), 62u);
  EXPECT_EQ(b.on_success(), seconds(5));
  EXPECT_EQ(b.consecutive_errors(), 0u);
  auto again = b.on_error();
  EXPECT_EQ(again.delay, seconds(10));
  EXPECT_TRUE(again.notify_admins);  // a new run of errors is told again
}

TEST(PollBackoff, OtherIntervalsAndCaps) {
  PollBackoff b(seconds(2), seconds(7));
  EXPECT_EQ(delays_after_errors(b, 5), (std::vector<long>{4, 6, 7, 7, 7}));
  PollBackoff zero(seconds(0), seconds(3));  // never a busy loop
  EXPECT_EQ(zero.on_success(), seconds(1));
  EXPECT_EQ(delays_after_errors(zero, 4), (std::vector<long>{2, 3, 3, 3}));
  PollBackoff low_cap(seconds(10), seconds(5));  // a cap under the interval is the interval
  EXPECT_EQ(delays_after_errors(low_cap, 2), (std::vector<long>{10, 10}));
}

TEST(PollBackoff, DaysOfErrorsStayAtTheCap) {
  PollBackoff b;
  for (int i = 0; i < 100000; ++i) (void)b.on_error();
  EXPECT_EQ(b.on_error().delay, seconds(300));
}

}  // namespace
}  // namespace pulse::guardian
