#include "auth/password.h"

#include <gtest/gtest.h>

namespace pulse::auth {
namespace {

// Vectors computed with python3 hashlib per RabbitMQ's documented algorithm
// (base64(salt ++ H(salt ++ password))); the SHA-256 and MD5 ones also appear in widely used
// public write-ups of RabbitMQ's scheme (salt 908DC60A/"test12", CAD5089B/"simon").
constexpr std::string_view kSha256Test12 = "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR";
constexpr std::string_view kMd5Simon = "ytUIm8s3AnKsXQjptplKFytfVxI=";
constexpr std::string_view kSha512Secret =
    "AQIDBPhTH2L5HGYB1LWOrn+YpvuQmVOXKGqgsuiJRIZTILRoEvblSJo/WAsym3IZTfuaIaK5KR2o5KwFfTv6KsxfMIE=";

TEST(Password, KnownRabbitMqSha256Vector) {
  EXPECT_EQ(hash_password_with_salt("test12", HashAlgorithm::kSha256, {0x90, 0x8d, 0xc6, 0x0a}),
            kSha256Test12);
  EXPECT_TRUE(verify_password(kSha256Test12, HashAlgorithm::kSha256, "test12"));
  EXPECT_FALSE(verify_password(kSha256Test12, HashAlgorithm::kSha256, "test13"));
  EXPECT_FALSE(verify_password(kSha256Test12, HashAlgorithm::kSha512, "test12"));
}

TEST(Password, KnownMd5AndSha512Vectors) {
  EXPECT_EQ(hash_password_with_salt("simon", HashAlgorithm::kMd5, {0xca, 0xd5, 0x08, 0x9b}),
            kMd5Simon);
  EXPECT_TRUE(verify_password(kMd5Simon, HashAlgorithm::kMd5, "simon"));
  EXPECT_EQ(hash_password_with_salt("secret", HashAlgorithm::kSha512, {1, 2, 3, 4}), kSha512Secret);
  EXPECT_TRUE(verify_password(kSha512Secret, HashAlgorithm::kSha512, "secret"));
}

TEST(Password, RandomSaltRoundTrip) {
  std::string a = hash_password("pässwörd");
  std::string b = hash_password("pässwörd");
  EXPECT_NE(a, b);  // salts differ
  EXPECT_EQ(base64_decode(a)->size(), kSaltSize + 32);
  EXPECT_TRUE(verify_password(a, HashAlgorithm::kSha256, "pässwörd"));
  EXPECT_TRUE(verify_password(b, HashAlgorithm::kSha256, "pässwörd"));
  EXPECT_FALSE(verify_password(a, HashAlgorithm::kSha256, ""));
}

TEST(Password, EmptyOrMalformedHashNeverVerifies) {
  EXPECT_FALSE(verify_password("", HashAlgorithm::kSha256, ""));
  EXPECT_FALSE(verify_password("not base64!", HashAlgorithm::kSha256, "x"));
  EXPECT_FALSE(verify_password("AAAA", HashAlgorithm::kSha256, ""));  // too short
}

TEST(Password, AlgorithmNames) {
  EXPECT_EQ(parse_hash_algorithm("rabbit_password_hashing_sha256"), HashAlgorithm::kSha256);
  EXPECT_EQ(parse_hash_algorithm("rabbit_password_hashing_sha512"), HashAlgorithm::kSha512);
  EXPECT_EQ(parse_hash_algorithm("rabbit_password_hashing_md5"), HashAlgorithm::kMd5);
  EXPECT_FALSE(parse_hash_algorithm("sha256").has_value());
  EXPECT_EQ(hash_algorithm_name(HashAlgorithm::kMd5), kMd5Name);
}

TEST(Base64, RoundTripAndRejects) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s) << s;
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("Zm8").has_value());
  EXPECT_FALSE(base64_decode("Z=8=").has_value());
  EXPECT_FALSE(base64_decode("Zm8=Zm8=").has_value());
  EXPECT_FALSE(base64_decode("Zm 9").has_value());
}

}  // namespace
}  // namespace pulse::auth
