#pragma once
// Shared between normalize.cc (property scan) and normalize_kinds.cc (tests, builds, repacks).
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "normalize.h"

namespace pulse::translator::detail {

// Python's truth value of a JSON value (null, false, 0, "", [] and {} are false).
bool truthy(const nlohmann::json& v);

// What the property scan left for the kind-specific rules.
struct Scanned {
  nlohmann::json data;  // the flat object being built (key, tree, platform, ...)
  std::string key;      // the input routing key
  std::string tree;
  std::optional<std::string> stage_platform;
  int64_t now = 0;
};

// The test and build rules; they fill `out` (and return it) from `s`.
NormalizeResult normalize_kinds(Scanned& s);

}  // namespace pulse::translator::detail
