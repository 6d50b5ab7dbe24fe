#include "pulse/guardian/settings.h"

#include <string>

namespace pulse::guardian {
namespace {

Status check_thresholds(const Thresholds& t, const std::string& where) {
  if (t.warn_queue_size == 0) return Error{0, where + "warn_queue_size must be positive"};
  if (t.delete_queue_size == 0) return Error{0, where + "delete_queue_size must be positive"};
  // Equal would mean no warning ever: a queue over the one threshold is over both.
  if (t.warn_queue_size >= t.delete_queue_size) {
    return Error{0, where + "warn_queue_size (" + std::to_string(t.warn_queue_size) +
                        ") must be below delete_queue_size (" +
                        std::to_string(t.delete_queue_size) + ")"};
  }
  return {};
}

}  // namespace

Status validate(const GuardianSettings& s) {
  using std::chrono::seconds;
  if (s.interval < seconds(1)) {
    return Error{0, "pulse.guardian.interval (" + std::to_string(s.interval.count()) +
                        ") must be at least 1 second"};
  }
  if (auto st = check_thresholds(s.thresholds, "pulse.guardian."); !st) return st;
  for (const auto& [owner, o] : s.owners) {
    if (owner.empty()) return Error{0, "pulse.guardian.owners: an owner name is empty"};
    // An owner's thresholds are checked after merging with the global ones (thresholds_for).
    const std::string where = "pulse.guardian.owners." + owner + ": ";
    if (!o.warn_queue_size && !o.delete_queue_size) {
      return Error{0, where + "sets neither warn_queue_size nor delete_queue_size"};
    }
    if (auto st = check_thresholds(thresholds_for(s, owner), where); !st) return st;
  }
  for (const auto& q : s.unbounded) {
    if (q.vhost.empty() || q.name.empty()) {
      return Error{0, "pulse.guardian.unbounded: vhost and queue name must not be empty"};
    }
  }
  if (s.idle_queue_expiry < seconds(0)) {
    return Error{0, "pulse.guardian.idle_queue_expiry (" +
                        std::to_string(s.idle_queue_expiry.count()) +
                        ") must not be negative (0 turns it off)"};
  }
  if (s.max_connection_age < seconds(0)) {
    return Error{0, "pulse.guardian.max_connection_age (" +
                        std::to_string(s.max_connection_age.count()) +
                        ") must not be negative (0 turns it off)"};
  }
  return {};
}

Thresholds thresholds_for(const GuardianSettings& s, const std::optional<std::string>& owner) {
  Thresholds t = s.thresholds;
  if (!owner) return t;
  auto it = s.owners.find(*owner);
  if (it == s.owners.end()) return t;
  if (it->second.warn_queue_size) t.warn_queue_size = *it->second.warn_queue_size;
  if (it->second.delete_queue_size) t.delete_queue_size = *it->second.delete_queue_size;
  return t;
}

}  // namespace pulse::guardian
