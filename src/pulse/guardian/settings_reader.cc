#include "pulse/guardian/settings_reader.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace pulse::guardian {
namespace {

// Ten years: a longer duration would overflow the nanosecond clock arithmetic of the policy.
constexpr uint64_t kMaxSeconds = 10ull * 366 * 24 * 3600;
// A day between polls is already no guardian at all.
constexpr uint64_t kMaxInterval = 24 * 3600;

constexpr std::string_view kKnownKeys =
    "the guardian's keys are pulse.guardian.enabled, .interval, .warn_queue_size, "
    ".delete_queue_size, .idle_queue_expiry, .max_connection_age, "
    ".owners.<owner>.warn_queue_size, .owners.<owner>.delete_queue_size, "
    ".unbounded.<name> and .unbounded.<name>.vhost";

Error unknown_key(std::string_view key) {
  return Error{0, "unknown key '" + std::string(key) + "' (" + std::string(kKnownKeys) + ")"};
}

Error bad_value(std::string_view key, std::string_view value, std::string_view why) {
  return Error{0, "invalid value '" + std::string(value) + "' for key '" + std::string(key) +
                      "': " + std::string(why)};
}

std::optional<uint64_t> parse_uint(std::string_view v, uint64_t max) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > max) return std::nullopt;
  return n;
}

Status set_count(std::string_view key, std::string_view v, uint64_t& out) {
  auto n = parse_uint(v, std::numeric_limits<int64_t>::max());
  if (!n) return bad_value(key, v, "expected a number of messages");
  out = *n;
  return {};
}

Status set_seconds(std::string_view key, std::string_view v, std::chrono::seconds& out,
                   uint64_t max, std::string_view what) {
  auto n = parse_uint(v, max);
  if (!n) {
    return bad_value(key, v,
                     std::string(what) + " (a whole number from 0 to " + std::to_string(max) + ")");
  }
  out = std::chrono::seconds(static_cast<int64_t>(*n));
  return {};
}

}  // namespace

Status SettingsReader::apply(std::string_view key, std::string_view value) {
  if (!key.starts_with(kSettingsPrefix)) return unknown_key(key);
  const std::string_view rest = key.substr(kSettingsPrefix.size());
  GuardianSettings& s = settings_;
  if (rest == "enabled") {
    if (value == "true") {
      s.enabled = true;
    } else if (value == "false") {
      s.enabled = false;
    } else {
      return bad_value(key, value, "expected true or false");
    }
    return {};
  }
  if (rest == "interval") {
    return set_seconds(key, value, s.interval, kMaxInterval, "expected a number of seconds");
  }
  if (rest == "warn_queue_size") return set_count(key, value, s.thresholds.warn_queue_size);
  if (rest == "delete_queue_size") return set_count(key, value, s.thresholds.delete_queue_size);
  if (rest == "idle_queue_expiry") {
    return set_seconds(key, value, s.idle_queue_expiry, kMaxSeconds,
                       "expected a number of seconds, 0 for off");
  }
  if (rest == "max_connection_age") {
    return set_seconds(key, value, s.max_connection_age, kMaxSeconds,
                       "expected a number of seconds, 0 for off");
  }

  constexpr std::string_view kOwners = "owners.";
  if (rest.starts_with(kOwners)) {
    // Owners are Pulse user names, which may contain dots: the setting is the last segment.
    const std::string_view tail = rest.substr(kOwners.size());
    const size_t dot = tail.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return unknown_key(key);
    const std::string owner(tail.substr(0, dot));
    const std::string_view setting = tail.substr(dot + 1);
    uint64_t n = 0;
    if (setting != "warn_queue_size" && setting != "delete_queue_size") return unknown_key(key);
    if (auto st = set_count(key, value, n); !st) return st;
    auto& o = s.owners[owner];
    (setting == "warn_queue_size" ? o.warn_queue_size : o.delete_queue_size) = n;
    return {};
  }

  constexpr std::string_view kUnbounded = "unbounded.";
  if (rest.starts_with(kUnbounded)) {
    const std::string_view tail = rest.substr(kUnbounded.size());
    const size_t dot = tail.find('.');
    const std::string_view name = tail.substr(0, dot);
    if (name.empty()) return unknown_key(key);
    if (dot == std::string_view::npos) {
      if (value.empty()) return bad_value(key, value, "expected a queue name");
      unbounded_[std::string(name)].queue = std::string(value);
      return {};
    }
    if (tail.substr(dot + 1) != "vhost") return unknown_key(key);
    if (value.empty()) return bad_value(key, value, "expected a vhost name");
    unbounded_[std::string(name)].vhost = std::string(value);
    return {};
  }
  return unknown_key(key);
}

Result<GuardianSettings> SettingsReader::finish() const {
  GuardianSettings s = settings_;
  for (const auto& [name, entry] : unbounded_) {
    if (!entry.queue) {
      return Error{0, "pulse.guardian.unbounded." + name + ".vhost is set but " +
                          "pulse.guardian.unbounded." + name + " (the queue) is not"};
    }
    s.unbounded.insert(QueueRef{entry.vhost, *entry.queue});
  }
  if (auto st = validate(s); !st) return st.error();
  return s;
}

}  // namespace pulse::guardian
