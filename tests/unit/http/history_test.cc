// history.h: the range parameters as RabbitMQ 3.10 reads them, the change-only series and the
// samples, avg and avg_rate of a range.
#include "http/history.h"

#include <gtest/gtest.h>

#include <array>

namespace pulse::http {
namespace {

httpd::Request with_query(std::initializer_list<std::pair<std::string, std::string>> q) {
  httpd::Request r;
  for (const auto& [k, v] : q) r.query[k] = v;
  return r;
}

TEST(SampleRangesTest, BothParametersAsIntegersMakeARange) {
  auto r = parse_sample_ranges(with_query({{"lengths_age", "60"}, {"lengths_incr", "5"}}));
  ASSERT_TRUE(r.lengths);
  EXPECT_EQ(r.lengths->age_ms, 60000);
  EXPECT_EQ(r.lengths->incr_ms, 5000);
  EXPECT_FALSE(r.msg_rates);
  EXPECT_TRUE(r.error.empty());
}

TEST(SampleRangesTest, MissingOrNonIntegerParametersAreIgnored) {
  for (auto q : {with_query({{"lengths_age", "60"}}), with_query({{"lengths_incr", "5"}}),
                 with_query({{"lengths_age", "abc"}, {"lengths_incr", "5"}}),
                 with_query({{"lengths_age", "60"}, {"lengths_incr", "5.5"}}),
                 with_query({{"lengths_age", ""}, {"lengths_incr", "5"}})}) {
    auto r = parse_sample_ranges(q);
    EXPECT_FALSE(r.any());
    EXPECT_TRUE(r.error.empty()) << r.error;
  }
}

TEST(SampleRangesTest, OutOfRangeIntegersAreRabbitMQsError) {
  auto r = parse_sample_ranges(with_query({{"msg_rates_age", "60"}, {"msg_rates_incr", "0"}}));
  EXPECT_EQ(r.error, "Invalid range parameters: age 60, incr 0");
  r = parse_sample_ranges(with_query({{"lengths_age", "-5"}, {"lengths_incr", "5"}}));
  EXPECT_EQ(r.error, "Invalid range parameters: age -5, incr 5");
  // More than 500 increments.
  r = parse_sample_ranges(with_query({{"lengths_age", "2505"}, {"lengths_incr", "5"}}));
  EXPECT_EQ(r.error, "Invalid range parameters: age 2505, incr 5");
  r = parse_sample_ranges(with_query({{"lengths_age", "2500"}, {"lengths_incr", "5"}}));
  EXPECT_TRUE(r.error.empty());
  EXPECT_TRUE(r.lengths);
}

TEST(SeriesTest, KeepsOnlyChangesAndAnswersTheValueAsOfATime) {
  Series s(2, Series::kQueueRetentionMs);
  std::array<uint64_t, 2> a{1, 10}, b{2, 10};
  s.record(1000, a.data());
  s.record(6000, a.data());  // unchanged: no entry
  s.record(11000, b.data());
  EXPECT_EQ(s.entries(), 2u);
  EXPECT_EQ(s.value_at(999, 0), 0u);  // before the first entry
  EXPECT_EQ(s.value_at(1000, 0), 1u);
  EXPECT_EQ(s.value_at(10999, 0), 1u);
  EXPECT_EQ(s.value_at(11000, 0), 2u);
  EXPECT_EQ(s.value_at(99999, 1), 10u);
}

TEST(SeriesTest, DropsWhatIsOlderThanTheRetentionButKeepsTheWindowsStartValue) {
  Series s(1, 10'000);
  for (uint64_t v = 0; v < 10; ++v) s.record(static_cast<int64_t>(v) * 5000, &v);
  // Now 45 s: entries at 35 s and 40 s remain inside, plus the one in force at 35 s.
  EXPECT_LE(s.entries(), 3u);
  EXPECT_EQ(s.value_at(35000, 0), 7u);
  EXPECT_EQ(s.value_at(45000, 0), 9u);
}

TEST(SamplesTest, NewestFirstOnTheGridWithAvgAndAvgRate) {
  Series s(1, Series::kQueueRetentionMs);
  for (uint64_t k = 0; k <= 12; ++k) {
    uint64_t v = k * 10;
    s.record(1'000'000 + static_cast<int64_t>(k) * 5000, &v);
  }
  const int64_t now = 1'000'000 + 12 * 5000 + 1234;
  Samples got = take_samples({60000, 5000}, now, [&](int64_t ts) { return s.value_at(ts, 0); });
  ASSERT_EQ(got.stamps.size(), 13u);
  EXPECT_EQ(got.stamps.front(), 1'060'000);
  EXPECT_EQ(got.stamps.back(), 1'000'000);
  EXPECT_EQ(got.values.front(), 120u);
  EXPECT_EQ(got.values.back(), 0u);
  nlohmann::json d = {{"rate", 2.0}};
  add_samples(d, got);
  EXPECT_EQ(d["samples"].size(), 13u);
  EXPECT_EQ(d["samples"][0], (nlohmann::json{{"sample", 120}, {"timestamp", 1'060'000}}));
  EXPECT_DOUBLE_EQ(d["avg"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(d["avg_rate"].get<double>(), 2.0);  // 120 over 60 s
  EXPECT_EQ(d["rate"], 2.0);
}

TEST(SamplesTest, AnIncrementThatDoesNotDivideTheAge) {
  Samples got = take_samples({20000, 7000}, 80'000, [](int64_t) { return 5; });
  ASSERT_EQ(got.stamps.size(), 3u);  // 80, 73, 66 s
  EXPECT_EQ(got.stamps[2], 66'000);
  nlohmann::json d = {{"rate", 0.0}};
  add_samples(d, got);
  EXPECT_DOUBLE_EQ(d["avg_rate"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(d["avg"].get<double>(), 5.0);
}

}  // namespace
}  // namespace pulse::http
