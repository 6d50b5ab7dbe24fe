// pulse-perf's verdict machinery: trackers, histogram, body layout, queue-args parsing.
#include <gtest/gtest.h>

#include "body.h"
#include "perf_options.h"
#include "stats.h"
#include "tracker.h"

namespace pulse::perf {
namespace {

TEST(Tracker, CountsDistinctDuplicatesRedeliveriesAndImpossible) {
  QueueTracker t(2);
  std::vector<uint64_t> sent{5, 3};
  t.apply({{0, 1, false},
           {0, 2, false},
           {1, 1, false},
           {0, 2, false},
           {0, 1, true},
           {1, 4, false},
           {0, 0, false},
           {7, 1, false}},
          sent);
  EXPECT_EQ(t.distinct(), 3u);
  EXPECT_EQ(t.duplicates(), 1u);   // (0,2) twice without the redelivered flag
  EXPECT_EQ(t.redelivered(), 1u);  // (0,1) again, flagged
  EXPECT_EQ(t.impossible(), 3u);   // seq 4 > sent 3, seq 0, unknown producer
}

TEST(Tracker, MissingExcludesNackedRanges) {
  QueueTracker t(2);
  std::vector<uint64_t> sent{200, 10};
  std::vector<Receipt> batch;
  for (uint64_t s = 1; s <= 200; ++s) {
    if (s % 10 != 0 && !(s >= 100 && s <= 150)) batch.push_back({0, s, false});
  }
  batch.push_back({0, 120, false});  // nacked yet delivered: fine
  t.apply(batch, sent);
  std::vector<ProducerOutcome> outcomes(2);
  outcomes[0].sent = 200;
  outcomes[0].nacked = {{100, 150}};
  outcomes[1].sent = 0;
  // Missing: multiples of 10 outside [100, 150]: 10..90 (9) and 160..200 (5).
  EXPECT_EQ(t.missing({0, 1}, outcomes), 14u);
  outcomes[1].sent = 10;
  EXPECT_EQ(t.missing({0, 1}, outcomes), 24u);
  EXPECT_EQ(t.missing({0}, outcomes), 14u);
}

TEST(Bits, CountRanges) {
  Bits b;
  for (uint64_t i : {1u, 63u, 64u, 65u, 127u, 128u, 1000u}) EXPECT_FALSE(b.set(i));
  EXPECT_TRUE(b.set(64));
  EXPECT_EQ(b.count(1, 1000), 7u);
  EXPECT_EQ(b.count(2, 127), 4u);
  EXPECT_EQ(b.count(64, 64), 1u);
  EXPECT_EQ(b.count(129, 999), 0u);
  EXPECT_EQ(b.count(1001, 5000), 0u);
  EXPECT_EQ(b.count(5, 4), 0u);
}

TEST(Histogram, BucketsAndPercentiles) {
  for (uint64_t v : {0ull, 1ull, 63ull, 64ull, 100ull, 1000ull, 123456ull, 4000000000ull}) {
    const int b = Histogram::bucket_of(v);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, Histogram::kBuckets);
    const double mid = Histogram::value_of(b);
    EXPECT_NEAR(mid, static_cast<double>(v), std::max(1.0, v * 0.04)) << v;
  }
  Histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(static_cast<uint64_t>(i));
  HistogramSnapshot s;
  s.add(h);
  EXPECT_EQ(s.total(), 1000u);
  EXPECT_NEAR(s.percentile(0.5), 500, 20);
  EXPECT_NEAR(s.percentile(0.99), 990, 40);
  EXPECT_NEAR(s.max(), 1000, 40);
  EXPECT_EQ(s.min(), 1);
  EXPECT_EQ(s.minus(s).total(), 0u);
}

TEST(Body, RoundTrip) {
  std::string body(16, 'x');
  write_body(body, 12345, 0x0000'0fff'ffff'fffeULL, 0xdeadbeef);
  BodyInfo info;
  ASSERT_TRUE(read_body(body, info));
  EXPECT_EQ(info.producer_tag, 12345u);
  EXPECT_EQ(info.seq, 0x0000'0fff'ffff'fffeULL);
  EXPECT_EQ(info.sent_us, 0xdeadbeefu);
  EXPECT_FALSE(read_body("short", info));
}

TEST(QueueArgs, Types) {
  auto t =
      parse_queue_args({"x-max-length=10,x-overflow=drop-head", "x-single-active-consumer=true"});
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ(*amqp::find(*t, "x-max-length")->as_int(), 10);
  EXPECT_EQ(*amqp::find(*t, "x-overflow")->as_string(), "drop-head");
  EXPECT_TRUE(*amqp::find(*t, "x-single-active-consumer")->as_bool());
  EXPECT_FALSE(parse_queue_args({"novalue"}).ok());
  EXPECT_FALSE(parse_queue_args({"=1"}).ok());
}

}  // namespace
}  // namespace pulse::perf
