#include "mutate.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "base/url.h"

namespace pulse::fuzz {
namespace {

// The quoted part of a dictionary line, unescaped; false if the line has none.
bool parse_token(const std::string& line, Bytes& out) {
  const size_t open = line.find('"');
  const size_t close = line.rfind('"');
  if (open == std::string::npos || close <= open) return false;
  for (size_t i = open + 1; i < close; ++i) {
    if (line[i] != '\\' || i + 1 >= close) {
      out.push_back(static_cast<uint8_t>(line[i]));
      continue;
    }
    const char e = line[++i];
    if (e == 'x' && i + 2 < close && hex_digit_value(line[i + 1]) >= 0 &&
        hex_digit_value(line[i + 2]) >= 0) {
      out.push_back(
          static_cast<uint8_t>(hex_digit_value(line[i + 1]) * 16 + hex_digit_value(line[i + 2])));
      i += 2;
    } else {
      out.push_back(static_cast<uint8_t>(e));
    }
  }
  return true;
}

// Values that trip length and bounds checks: the edges of each integer width.
constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x20, 0x40, 0xce};

}  // namespace

std::vector<Bytes> read_dictionary(const std::string& path) {
  std::vector<Bytes> tokens;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    Bytes token;
    if (parse_token(line, token) && !token.empty()) tokens.push_back(std::move(token));
  }
  return tokens;
}

Bytes Mutator::next() {
  Bytes b = corpus_.empty() ? Bytes{} : corpus_[pick(corpus_.size())];
  const size_t edits = 1 + pick(8);
  for (size_t i = 0; i < edits; ++i) edit(b);
  if (b.size() > max_) b.resize(max_);
  return b;
}

void Mutator::edit(Bytes& b) {
  auto random_byte = [&] { return static_cast<uint8_t>(pick(256)); };
  switch (b.empty() ? 3 : pick(10)) {
    case 0:  // flip a bit
      b[pick(b.size())] ^= static_cast<uint8_t>(1u << pick(8));
      break;
    case 1:  // a random byte
      b[pick(b.size())] = random_byte();
      break;
    case 2:  // an interesting byte, or a run of them (a 16/32/64-bit length's edges)
    {
      const size_t at = pick(b.size());
      const size_t n = std::min(b.size() - at, size_t{1} << pick(4));
      const uint8_t v = kInteresting[pick(sizeof kInteresting)];
      std::fill_n(b.begin() + static_cast<ptrdiff_t>(at), n, v);
      break;
    }
    case 3:  // insert random bytes
    {
      const size_t at = b.empty() ? 0 : pick(b.size() + 1);
      const size_t n = 1 + pick(16);
      Bytes ins(n);
      for (auto& x : ins) x = random_byte();
      b.insert(b.begin() + static_cast<ptrdiff_t>(at), ins.begin(), ins.end());
      break;
    }
    case 4:  // erase a range
    {
      const size_t at = pick(b.size());
      const size_t n = 1 + pick(std::min<size_t>(b.size() - at, 64));
      b.erase(b.begin() + static_cast<ptrdiff_t>(at), b.begin() + static_cast<ptrdiff_t>(at + n));
      break;
    }
    case 5:  // copy a range of the input over another place in it
    {
      const size_t from = pick(b.size());
      const size_t to = pick(b.size());
      const size_t n = std::min({b.size() - from, b.size() - to, 1 + pick(64)});
      std::memmove(b.data() + to, b.data() + from, n);
      break;
    }
    case 6:  // duplicate a range (repeated frames, repeated headers)
    {
      const size_t at = pick(b.size());
      const size_t n = 1 + pick(std::min<size_t>(b.size() - at, 256));
      Bytes piece(b.begin() + static_cast<ptrdiff_t>(at),
                  b.begin() + static_cast<ptrdiff_t>(at + n));
      b.insert(b.begin() + static_cast<ptrdiff_t>(pick(b.size() + 1)), piece.begin(), piece.end());
      break;
    }
    case 7:  // splice: this input's head, another's tail
    {
      if (corpus_.empty()) break;
      const Bytes& other = corpus_[pick(corpus_.size())];
      if (other.empty()) break;
      b.resize(pick(b.size() + 1));
      const size_t from = pick(other.size());
      b.insert(b.end(), other.begin() + static_cast<ptrdiff_t>(from), other.end());
      break;
    }
    default:  // a dictionary token, inserted or written over
    {
      if (dict_.empty()) {
        b[pick(b.size())] = random_byte();
        break;
      }
      const Bytes& t = dict_[pick(dict_.size())];
      const size_t at = pick(b.size() + 1);
      if (pick(2) == 0 || at + t.size() > b.size()) {
        b.insert(b.begin() + static_cast<ptrdiff_t>(at), t.begin(), t.end());
      } else {
        std::copy(t.begin(), t.end(), b.begin() + static_cast<ptrdiff_t>(at));
      }
      break;
    }
  }
}

}  // namespace pulse::fuzz
