#pragma once
// RabbitMQ-compatible salted password hashes, so that hashes exported from a RabbitMQ node
// (definitions JSON, `rabbitmqctl hash_password`) import unchanged and vice versa.
//
// Format (rabbit_password): base64(salt[4] ++ H(salt[4] ++ utf8(password))), with H one of
// SHA-256 (the default since RabbitMQ 3.6), SHA-512 or MD5 (pre-3.6 exports).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pulse::auth {

enum class HashAlgorithm { kSha256, kSha512, kMd5 };

inline constexpr std::string_view kSha256Name = "rabbit_password_hashing_sha256";
inline constexpr std::string_view kSha512Name = "rabbit_password_hashing_sha512";
inline constexpr std::string_view kMd5Name = "rabbit_password_hashing_md5";
inline constexpr size_t kSaltSize = 4;

// Accepts RabbitMQ's module names (above); nullopt for anything else.
std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name);
std::string_view hash_algorithm_name(HashAlgorithm alg);
size_t digest_size(HashAlgorithm alg);

// Base64 hash of `password` with a fresh random salt.
std::string hash_password(std::string_view password, HashAlgorithm alg = HashAlgorithm::kSha256);
// Deterministic variant for tests and tools that must reproduce a known hash.
std::string hash_password_with_salt(std::string_view password, HashAlgorithm alg,
                                    const std::array<uint8_t, kSaltSize>& salt);

// True when `hash_b64` is a well-formed hash of `password`. The digest comparison is
// constant-time. An empty or malformed hash never verifies (RabbitMQ: passwordless user).
bool verify_password(std::string_view hash_b64, HashAlgorithm alg, std::string_view password);
// Same, on an already-decoded salt+digest (what AuthStore keeps, to skip base64 per login).
bool verify_password_raw(std::string_view salt_and_digest, HashAlgorithm alg,
                         std::string_view password);

// How many salted digests this thread has computed: a refusal's cost must not depend on
// whether the user exists, and tests check that by counting digests rather than by timing.
std::uint64_t salted_digests_computed();

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);
// nullopt on any character outside the alphabet or bad padding; whitespace is not allowed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace pulse::auth
