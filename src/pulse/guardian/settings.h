#pragma once
// The guardian's settings with issue 14's defaults. Read from `pulse.guardian.*` keys by
// SettingsReader (settings_reader.h).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/result.h"

namespace pulse::guardian {

struct QueueRef {
  std::string vhost;
  std::string name;
  auto operator<=>(const QueueRef&) const = default;
};

// What applies to one queue. Sizes are `messages` (ready + unacknowledged).
struct Thresholds {
  uint64_t warn_queue_size = 2000;
  uint64_t delete_queue_size = 8000;
  bool operator==(const Thresholds&) const = default;
};

// An owner's own limits; an absent one is the global value (production raised only the
// deletion threshold for some owners).
struct OwnerOverride {
  std::optional<uint64_t> warn_queue_size;
  std::optional<uint64_t> delete_queue_size;
};

struct GuardianSettings {
  bool enabled = false;  // a bare pulsed behaves like RabbitMQ
  std::chrono::seconds interval{5};
  Thresholds thresholds;
  std::map<std::string, OwnerOverride> owners;
  // Never deleted, whatever their size or idleness; still warned (guardian/README.md).
  std::set<QueueRef> unbounded;
  std::chrono::seconds idle_queue_expiry{0};   // 0: off
  std::chrono::seconds max_connection_age{0};  // 0: off
};

// Every inconsistency is refused with a text naming the setting, its value and the rule.
Status validate(const GuardianSettings& settings);

// The thresholds for a queue of `owner` (none: the global ones).
Thresholds thresholds_for(const GuardianSettings& settings,
                          const std::optional<std::string>& owner);

}  // namespace pulse::guardian
