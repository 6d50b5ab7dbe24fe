#pragma once
// Counters and a latency histogram written by one thread and read by the reporter. Single
// writer: increments are a relaxed load + store (no locked instruction on the hot path).
#include <array>
#include <atomic>
#include <cstdint>

namespace pulse::perf {

struct alignas(64) Counter {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(uint64_t n) { v.store(n, std::memory_order_release); }
  uint64_t get() const { return v.load(std::memory_order_acquire); }
};

// Log-linear buckets over microseconds: exact below 64 µs, then 32 buckets per power of two
// (about 3% resolution) up to 2^32 µs.
class Histogram {
 public:
  static constexpr int kBuckets = 64 + 26 * 32;

  static int bucket_of(uint64_t us) {
    if (us < 64) return static_cast<int>(us);
    if (us >= (uint64_t{1} << 32)) us = (uint64_t{1} << 32) - 1;
    const int e = 63 - __builtin_clzll(us);  // >= 6
    return 64 + (e - 6) * 32 + static_cast<int>((us >> (e - 5)) & 31);
  }
  // The middle of a bucket's range.
  static double value_of(int bucket) {
    if (bucket < 64) return bucket;
    const int e = (bucket - 64) / 32 + 6;
    const uint64_t sub = (bucket - 64) % 32;
    const double lo = static_cast<double>((uint64_t{32} + sub) << (e - 5));
    return lo + static_cast<double>(uint64_t{1} << (e - 5)) / 2;
  }

  void record(uint64_t us) {
    auto& b = buckets_[bucket_of(us)];
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint64_t at(int i) const { return buckets_[i].load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
};

// A plain snapshot (sum of several histograms, or a difference of two snapshots).
struct HistogramSnapshot {
  std::array<uint64_t, Histogram::kBuckets> counts{};
  void add(const Histogram& h) {
    for (int i = 0; i < Histogram::kBuckets; ++i) counts[i] += h.at(i);
  }
  HistogramSnapshot minus(const HistogramSnapshot& o) const {
    HistogramSnapshot r;
    for (int i = 0; i < Histogram::kBuckets; ++i) r.counts[i] = counts[i] - o.counts[i];
    return r;
  }
  uint64_t total() const {
    uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
  }
  // q in [0, 1]; 0 when empty.
  double percentile(double q) const {
    const uint64_t n = total();
    if (n == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(n - 1)) + 1;
    uint64_t seen = 0;
    for (int i = 0; i < Histogram::kBuckets; ++i) {
      seen += counts[i];
      if (seen >= rank) return Histogram::value_of(i);
    }
    return Histogram::value_of(Histogram::kBuckets - 1);
  }
  double max() const {
    for (int i = Histogram::kBuckets - 1; i >= 0; --i) {
      if (counts[i] != 0) return Histogram::value_of(i);
    }
    return 0;
  }
  double min() const {
    for (int i = 0; i < Histogram::kBuckets; ++i) {
      if (counts[i] != 0) return Histogram::value_of(i);
    }
    return 0;
  }
};

}  // namespace pulse::perf
