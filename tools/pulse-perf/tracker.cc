#include "tracker.h"

#include <algorithm>
#include <bit>

namespace pulse::perf {

uint64_t Bits::count(uint64_t lo, uint64_t hi) const {
  uint64_t n = 0;
  if (hi < lo) return 0;
  const uint64_t last_word = std::min<uint64_t>(hi >> 6, words_.empty() ? 0 : words_.size() - 1);
  if (words_.empty()) return 0;
  for (uint64_t w = lo >> 6; w <= last_word; ++w) {
    uint64_t bits = words_[w];
    if (w == lo >> 6) bits &= ~uint64_t{0} << (lo & 63);
    if (w == hi >> 6 && (hi & 63) != 63) bits &= (uint64_t{1} << ((hi & 63) + 1)) - 1;
    n += static_cast<uint64_t>(std::popcount(bits));
  }
  return n;
}

void QueueTracker::apply(const std::vector<Receipt>& batch, const std::vector<uint64_t>& sent) {
  std::lock_guard lock(mu_);
  for (const Receipt& r : batch) {
    if (r.producer >= bits_.size() || r.seq == 0 || r.seq > sent[r.producer]) {
      ++impossible_;
      continue;
    }
    if (!bits_[r.producer].set(r.seq)) {
      ++distinct_;
    } else if (r.redelivered) {
      ++redelivered_;
    } else {
      ++duplicates_;
    }
  }
}

uint64_t QueueTracker::missing(const std::vector<size_t>& producers,
                               const std::vector<ProducerOutcome>& outcomes) {
  std::lock_guard lock(mu_);
  uint64_t missing = 0;
  for (size_t p : producers) {
    const ProducerOutcome& o = outcomes[p];
    if (o.sent == 0) continue;
    uint64_t expected = o.sent, got = bits_[p].count(1, o.sent);
    for (auto [lo, hi] : o.nacked) {
      expected -= hi - lo + 1;
      got -= bits_[p].count(lo, hi);
    }
    missing += expected - got;
  }
  return missing;
}

}  // namespace pulse::perf
