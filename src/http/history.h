#pragma once
// History for RabbitMQ's range queries on the management API: `?lengths_age=60&lengths_incr=5`
// and `msg_rates_age`/`msg_rates_incr` give each `*_details` object of a queue, a vhost or the
// overview `samples` (newest first, one every incr seconds back to age), `avg` (their mean) and
// `avg_rate` (the change from the oldest to the newest over that time), as RabbitMQ 3.10 does.
// The statistics pass (stats.h, every 5 s) records each object's values; a series keeps an
// entry only when they changed, so an idle queue costs one entry, and drops what is older than
// RabbitMQ's default retention for 5 s samples (605 s). Runs on the event loop.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "httpd/message.h"

namespace pulse::http {

struct SampleRange {
  int64_t age_ms = 0;
  int64_t incr_ms = 0;
};

struct SampleRanges {
  std::optional<SampleRange> lengths;    // lengths_age / lengths_incr
  std::optional<SampleRange> msg_rates;  // msg_rates_age / msg_rates_incr
  // RabbitMQ's 400 reason for a pair of integers out of range; the request is refused.
  std::string error;
  bool any() const { return lengths || msg_rates; }
};

// As rabbit_mgmt_util (3.10, observed): a pair needs both parameters as integers, or it is
// ignored (no samples); integers with age or incr not positive, or more than 500 increments
// in the age, are an error ("Invalid range parameters: age 0, incr 5").
SampleRanges parse_sample_ranges(const httpd::Request& req);
// That error as RabbitMQ answers it: 400 "invalid_range_parameters" on the queue, exchange
// and vhost listings, "bad_request" on everything else that takes ranges; nullopt when fine.
std::optional<httpd::Response> range_refusal(const SampleRanges& r, bool listing);
// The same for endpoints that only check the parameters (connections, channels, nodes).
std::optional<httpd::Response> range_refusal(const httpd::Request& req);

// The values of one object over time, `width` of them per entry.
class Series {
 public:
  // RabbitMQ's default retention of 5 s samples (605 s) for queues; the vhosts and the node
  // keep an hour (its global policy keeps minute samples that long), which costs little as
  // entries are kept only on change.
  static constexpr int64_t kQueueRetentionMs = 605'000;
  static constexpr int64_t kTotalsRetentionMs = 3'660'000;
  static constexpr int64_t kGridMs = 5'000;  // the sampling interval samples are aligned to

  Series(size_t width, int64_t retention_ms) : width_(width), retention_ms_(retention_ms) {}
  // `values` has `width` entries; `now_ms` is wall-clock time (ms since the epoch).
  void record(int64_t now_ms, const uint64_t* values);
  // Value `i` as of `ts_ms` (the last entry at or before it; 0 before the first one).
  uint64_t value_at(int64_t ts_ms, size_t i) const;
  size_t entries() const { return stamps_.size(); }

 private:
  size_t width_;
  int64_t retention_ms_;
  // Vectors, not deques: an empty deque allocates a block, and every queue has a series.
  std::vector<int64_t> stamps_;
  std::vector<uint64_t> values_;  // width_ per entry
};

// A value's samples over `range` up to `now_ms`, newest first.
struct Samples {
  std::vector<int64_t> stamps;
  std::vector<uint64_t> values;
};
Samples take_samples(const SampleRange& range, int64_t now_ms,
                     const std::function<uint64_t(int64_t)>& value_at);
// Adds samples, avg and avg_rate to `details` ({"rate": r}).
void add_samples(nlohmann::json& details, const Samples& s);

int64_t wall_clock_ms();

// A length's change per second over `secs` (negative when it shrank; 0 without an interval).
double change_per_second(uint64_t now, uint64_t before, double secs);

}  // namespace pulse::http
