#pragma once
// Shared helpers for the codec fuzz targets: abort loudly when a property that must hold for every
// input fails, so both libFuzzer and the corpus replayer report it as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

namespace pulse::fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
    std::abort();
  }
}

inline std::span<const uint8_t> as_span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace pulse::fuzz
