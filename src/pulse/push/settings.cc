#include <charconv>

#include "pulse/push/engine.h"

namespace pulse::push {

namespace {

std::optional<uint64_t> number(std::string_view v) {
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

}  // namespace

Status apply_setting(Settings& settings, std::string_view key, std::string_view value) {
  const std::string name(key.substr(key.starts_with("pulse.push.") ? 11 : 0));
  struct Range {
    const char* name;
    uint64_t min, max;
  };
  static constexpr Range kRanges[] = {{"max_subscriptions_per_owner", 1, 10000},
                                      {"max_lease", 60, 31622400},
                                      {"max_body", 1024, 134217728},
                                      {"retry_initial_ms", 10, 86400000},
                                      {"retry_max_ms", 10, 86400000},
                                      {"workers", 1, 64},
                                      {"timeout", 1, 300}};
  const Range* range = nullptr;
  for (const auto& r : kRanges)
    if (name == r.name) range = &r;
  if (range == nullptr) return Error{400, "unknown setting 'pulse.push." + name + "'"};
  auto v = number(value);
  if (!v || *v < range->min || *v > range->max)
    return Error{400, "pulse.push." + name + " must be a whole number from " +
                          std::to_string(range->min) + " to " + std::to_string(range->max)};
  Settings next = settings;
  if (name == "max_subscriptions_per_owner") next.limits.max_per_owner = static_cast<uint32_t>(*v);
  if (name == "max_lease") next.limits.max_lease_seconds = *v;
  if (name == "max_body") next.limits.max_body = *v;
  if (name == "retry_initial_ms") next.retry.initial = std::chrono::milliseconds(*v);
  if (name == "retry_max_ms") next.retry.max = std::chrono::milliseconds(*v);
  if (name == "workers") next.workers = static_cast<unsigned>(*v);
  if (name == "timeout") next.timeout = std::chrono::seconds(*v);
  if (next.limits.default_lease_seconds > next.limits.max_lease_seconds)
    next.limits.default_lease_seconds = next.limits.max_lease_seconds;
  settings = std::move(next);
  return {};
}

}  // namespace pulse::push
