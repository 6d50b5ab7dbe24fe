#include "mgmt/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "mgmt/errors.h"

namespace pulse::mgmt {
namespace {

std::string gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(Gzip, DecodesWhatGzipMade) {
  const std::string log(200000, 'x');
  const auto packed = gzip(log + "TEST-UNEXPECTED-FAIL | a.js");
  EXPECT_TRUE(looks_gzipped(packed));
  EXPECT_FALSE(looks_gzipped("plain text"));
  auto out = gunzip(packed);
  ASSERT_TRUE(out) << out.error().text;
  EXPECT_EQ(*out, log + "TEST-UNEXPECTED-FAIL | a.js");
}

TEST(Gzip, ConcatenatedMembersAreOneBody) {
  auto out = gunzip(gzip("first ") + gzip("second"));
  ASSERT_TRUE(out) << out.error().text;
  EXPECT_EQ(*out, "first second");
}

TEST(Gzip, RefusesMoreThanTheLimit) {
  // 10 MB of zeros packs into ~10 kB: the limit applies to what it expands to.
  const auto bomb = gzip(std::string(10'000'000, '\0'));
  ASSERT_LT(bomb.size(), 100'000u);
  auto out = gunzip(bomb, 1'000'000);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, kBadReply);
  EXPECT_NE(out.error().text.find("over the limit of 1000000 bytes"), std::string::npos);
}

TEST(Gzip, RefusesTruncatedAndGarbage) {
  const auto packed = gzip("hello world, hello world");
  auto cut = gunzip(packed.substr(0, packed.size() - 6));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().text, "gzip: the body ends before its end");
  auto junk = gunzip("this is not gzip at all");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().text, "gzip: the body is not valid gzip");
}

}  // namespace
}  // namespace pulse::mgmt
