#pragma once
// Per-queue receipt tracking: which (producer, sequence) pairs a queue's consumers received,
// to prove at the end that nothing was lost and nothing was delivered twice. Consumers of one
// queue share its tracker; each applies its receipts once per read batch under the lock.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace pulse::perf {

struct Receipt {
  uint32_t producer = 0;  // index within this run
  uint64_t seq = 0;
  bool redelivered = false;
};

class Bits {
 public:
  // Returns the previous value.
  bool set(uint64_t i) {
    const uint64_t w = i >> 6;
    if (w >= words_.size()) words_.resize(std::max<uint64_t>(w + 1, words_.size() * 2), 0);
    const uint64_t mask = uint64_t{1} << (i & 63);
    const bool was = (words_[w] & mask) != 0;
    words_[w] |= mask;
    return was;
  }
  bool test(uint64_t i) const {
    const uint64_t w = i >> 6;
    return w < words_.size() && (words_[w] >> (i & 63) & 1) != 0;
  }
  // Set bits in [lo, hi].
  uint64_t count(uint64_t lo, uint64_t hi) const;

 private:
  std::vector<uint64_t> words_;
};

struct ProducerOutcome {
  uint64_t sent = 0;
  // Sequence ranges the broker nacked: not expected, not an error if they arrive anyway.
  std::vector<std::pair<uint64_t, uint64_t>> nacked;
};

class QueueTracker {
 public:
  explicit QueueTracker(size_t producers) : bits_(producers) {}

  // `sent[p]` bounds the sequence numbers producer p can have published so far.
  void apply(const std::vector<Receipt>& batch, const std::vector<uint64_t>& sent);
  // Messages of these producers (indexes into `outcomes`) not received yet.
  uint64_t missing(const std::vector<size_t>& producers,
                   const std::vector<ProducerOutcome>& outcomes);

  uint64_t duplicates() const { return duplicates_; }
  uint64_t redelivered() const { return redelivered_; }
  uint64_t impossible() const { return impossible_; }
  uint64_t distinct() const { return distinct_; }

 private:
  std::mutex mu_;
  std::vector<Bits> bits_;
  uint64_t distinct_ = 0;
  uint64_t duplicates_ = 0;   // seen twice without the redelivered flag
  uint64_t redelivered_ = 0;  // seen again with redelivered set (allowed)
  uint64_t impossible_ = 0;   // a sequence number the producer has not sent
};

}  // namespace pulse::perf
