#pragma once
// Blind mutation for the replay binaries: libFuzzer's kinds of edits (bit flips, random and
// "interesting" bytes, inserts, erases, copies, splices with another corpus input, dictionary
// tokens) applied to the seed corpus for a bounded time, without coverage feedback. It needs no
// clang and no instrumented build, so every build (CI's included) can run each target briefly;
// the coverage-guided runs with ASan/UBSan are scripts/fuzz.sh's.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace pulse::fuzz {

using Bytes = std::vector<uint8_t>;

// Tokens of a libFuzzer dictionary file: `name="value"` or `"value"` lines, with \\, \" and
// \xNN escapes; comments (#) and blank lines skipped. Empty if the file cannot be read.
std::vector<Bytes> read_dictionary(const std::string& path);

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<Bytes> corpus, std::vector<Bytes> dictionary, size_t max_size)
      : rng_(seed), corpus_(std::move(corpus)), dict_(std::move(dictionary)), max_(max_size) {}

  // A new input: a corpus entry with 1-8 edits stacked on it.
  Bytes next();

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  void edit(Bytes& b);

  std::mt19937_64 rng_;
  std::vector<Bytes> corpus_;
  std::vector<Bytes> dict_;
  size_t max_;
};

}  // namespace pulse::fuzz
