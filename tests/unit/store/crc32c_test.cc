#include "store/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace pulse::store {
namespace {

TEST(Crc32c, KnownVector) {
  std::string s = "123456789";
  std::span<const uint8_t> d(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  EXPECT_EQ(crc32c(d), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(d), 0xE3069283u);
}

TEST(Crc32c, HardwareAndPortableAgreeAndChain) {
  std::mt19937 rng(7);
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 1000u, 4099u}) {
    std::vector<uint8_t> v(len);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    EXPECT_EQ(crc32c(v), crc32c_portable(v)) << len;
    size_t half = len / 2;
    std::span<const uint8_t> all(v);
    EXPECT_EQ(crc32c(all.subspan(half), crc32c(all.first(half))), crc32c(all)) << len;
  }
}

}  // namespace
}  // namespace pulse::store
