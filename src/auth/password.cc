#include "auth/password.h"

#include <nettle/md5.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace pulse::auth {
namespace {

// Nettle rather than OpenSSL: three plain hash functions need no provider machinery, and
// OpenSSL's initialisation alone costs an idle broker about 2 MiB of resident memory.
template <typename Ctx, size_t N>
void digest_with(void (*init)(Ctx*), void (*update)(Ctx*, size_t, const uint8_t*),
                 void (*final)(Ctx*, size_t, uint8_t*), std::string_view salt,
                 std::string_view password, std::string& out) {
  Ctx ctx;
  init(&ctx);
  update(&ctx, salt.size(), reinterpret_cast<const uint8_t*>(salt.data()));
  update(&ctx, password.size(), reinterpret_cast<const uint8_t*>(password.data()));
  uint8_t md[N];
  final(&ctx, N, md);
  out.append(reinterpret_cast<const char*>(md), N);
}

thread_local std::uint64_t digests_on_this_thread = 0;

// H(salt ++ password) appended to `out`.
bool salted_digest(HashAlgorithm alg, std::string_view salt, std::string_view password,
                   std::string& out) {
  ++digests_on_this_thread;
  switch (alg) {
    case HashAlgorithm::kSha256:
      digest_with<sha256_ctx, SHA256_DIGEST_SIZE>(sha256_init, sha256_update, sha256_digest, salt,
                                                  password, out);
      return true;
    case HashAlgorithm::kSha512:
      digest_with<sha512_ctx, SHA512_DIGEST_SIZE>(sha512_init, sha512_update, sha512_digest, salt,
                                                  password, out);
      return true;
    case HashAlgorithm::kMd5:
      digest_with<md5_ctx, MD5_DIGEST_SIZE>(md5_init, md5_update, md5_digest, salt, password, out);
      return true;
  }
  return false;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  if (name == kSha256Name) return HashAlgorithm::kSha256;
  if (name == kSha512Name) return HashAlgorithm::kSha512;
  if (name == kMd5Name) return HashAlgorithm::kMd5;
  return std::nullopt;
}

std::string_view hash_algorithm_name(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return kSha256Name;
    case HashAlgorithm::kSha512:
      return kSha512Name;
    case HashAlgorithm::kMd5:
      return kMd5Name;
  }
  return kSha256Name;
}

size_t digest_size(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha512:
      return 64;
    case HashAlgorithm::kMd5:
      return 16;
  }
  return 32;
}

std::string hash_password_with_salt(std::string_view password, HashAlgorithm alg,
                                    const std::array<uint8_t, kSaltSize>& salt) {
  std::string raw(reinterpret_cast<const char*>(salt.data()), salt.size());
  if (!salted_digest(alg, raw, password, raw)) {
    // Only reachable if OpenSSL itself is broken; there is no sane fallback.
    throw std::runtime_error("OpenSSL digest failed");
  }
  return base64_encode(raw);
}

std::string hash_password(std::string_view password, HashAlgorithm alg) {
  std::array<uint8_t, kSaltSize> salt{};
  size_t got = 0;
  while (got < salt.size()) {
    ssize_t n = ::getrandom(salt.data() + got, salt.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("getrandom failed");
    got += static_cast<size_t>(n);
  }
  return hash_password_with_salt(password, alg, salt);
}

bool verify_password_raw(std::string_view salt_and_digest, HashAlgorithm alg,
                         std::string_view password) {
  if (salt_and_digest.size() != kSaltSize + digest_size(alg)) return false;
  std::string computed;
  computed.reserve(SHA512_DIGEST_SIZE);
  if (!salted_digest(alg, salt_and_digest.substr(0, kSaltSize), password, computed)) return false;
  std::string_view stored = salt_and_digest.substr(kSaltSize);
  return computed.size() == stored.size() &&
         nettle_memeql_sec(computed.data(), stored.data(), stored.size());
}

std::uint64_t salted_digests_computed() {
  return digests_on_this_thread;
}

bool verify_password(std::string_view hash_b64, HashAlgorithm alg, std::string_view password) {
  auto raw = base64_decode(hash_b64);
  return raw && verify_password_raw(*raw, alg, password);
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      int v = b64_value(c);
      if (v < 0 || pad > 0) return std::nullopt;  // padding only at the very end
      n = (n << 6) | uint32_t(v);
    }
    out += char((n >> 16) & 0xff);
    if (pad < 2) out += char((n >> 8) & 0xff);
    if (pad < 1) out += char(n & 0xff);
  }
  return out;
}

}  // namespace pulse::auth
