#include "http/history.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>

namespace pulse::http {

using nlohmann::json;

namespace {

constexpr int64_t kMaxIncrements = 500;

std::optional<int64_t> integer_param(const httpd::Request& req, const std::string& key) {
  const std::string* v = req.param(key);
  if (v == nullptr || v->empty()) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
  return n;
}

std::optional<SampleRange> range_param(const httpd::Request& req, const std::string& prefix,
                                       std::string& error) {
  auto age = integer_param(req, prefix + "_age");
  auto incr = integer_param(req, prefix + "_incr");
  if (!age || !incr) return std::nullopt;
  if (*age <= 0 || *incr <= 0 || *age / *incr > kMaxIncrements) {
    if (error.empty())
      error = "Invalid range parameters: age " + std::to_string(*age) + ", incr " +
              std::to_string(*incr);
    return std::nullopt;
  }
  // At most 500 increments: ages are bounded by that times a (bounded) increment.
  constexpr int64_t kMaxSeconds = 366LL * 86'400;
  return SampleRange{std::min(*age, kMaxSeconds) * 1000, std::min(*incr, kMaxSeconds) * 1000};
}

}  // namespace

SampleRanges parse_sample_ranges(const httpd::Request& req) {
  SampleRanges r;
  r.lengths = range_param(req, "lengths", r.error);
  r.msg_rates = range_param(req, "msg_rates", r.error);
  return r;
}

std::optional<httpd::Response> range_refusal(const SampleRanges& r, bool listing) {
  if (r.error.empty()) return std::nullopt;
  return httpd::error_response(400, listing ? "invalid_range_parameters" : "bad_request", r.error);
}

std::optional<httpd::Response> range_refusal(const httpd::Request& req) {
  return range_refusal(parse_sample_ranges(req), false);
}

double change_per_second(uint64_t now, uint64_t before, double secs) {
  return secs > 0 ? (static_cast<double>(now) - static_cast<double>(before)) / secs : 0.0;
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Series::record(int64_t now_ms, const uint64_t* values) {
  const bool same = !stamps_.empty() &&
                    std::equal(values, values + width_, values_.end() - static_cast<long>(width_));
  if (!same) {
    stamps_.push_back(now_ms);
    values_.insert(values_.end(), values, values + width_);
  }
  // The oldest entry stays while the next one is still inside the window: it is the value
  // at the window's start.
  size_t drop = 0;
  while (stamps_.size() - drop > 1 && stamps_[drop + 1] <= now_ms - retention_ms_) ++drop;
  if (drop > 0) {
    stamps_.erase(stamps_.begin(), stamps_.begin() + static_cast<long>(drop));
    values_.erase(values_.begin(), values_.begin() + static_cast<long>(drop * width_));
  }
}

uint64_t Series::value_at(int64_t ts_ms, size_t i) const {
  auto it = std::upper_bound(stamps_.begin(), stamps_.end(), ts_ms);
  if (it == stamps_.begin()) return 0;
  const size_t k = static_cast<size_t>(it - stamps_.begin()) - 1;
  return values_[k * width_ + i];
}

Samples take_samples(const SampleRange& range, int64_t now_ms,
                     const std::function<uint64_t(int64_t)>& value_at) {
  Samples s;
  const int64_t newest = now_ms - now_ms % Series::kGridMs;
  const int64_t n = range.age_ms / range.incr_ms + 1;
  s.stamps.reserve(static_cast<size_t>(n));
  s.values.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const int64_t ts = newest - k * range.incr_ms;
    s.stamps.push_back(ts);
    s.values.push_back(value_at(ts));
  }
  return s;
}

void add_samples(json& details, const Samples& s) {
  json list = json::array();
  double sum = 0;
  for (size_t k = 0; k < s.stamps.size(); ++k) {
    list.push_back({{"sample", s.values[k]}, {"timestamp", s.stamps[k]}});
    sum += static_cast<double>(s.values[k]);
  }
  const size_t n = s.stamps.size();
  double avg_rate = 0;
  if (n > 1 && s.stamps.front() > s.stamps.back()) {
    const double secs = static_cast<double>(s.stamps.front() - s.stamps.back()) / 1000.0;
    avg_rate =
        (static_cast<double>(s.values.front()) - static_cast<double>(s.values.back())) / secs;
  }
  details["samples"] = std::move(list);
  details["avg_rate"] = avg_rate;
  details["avg"] = n > 0 ? sum / static_cast<double>(n) : 0.0;
}

}  // namespace pulse::http
