#pragma once
// What /api/pulse/guardian changed, kept across restarts: a layer over the settings the runner
// was started with (pulsed's pulse.guardian.* keys, pulse-guardian's --config). Scalars and
// owner thresholds set here replace the configured ones (an owner's entry as a whole); unbounded
// flags set here are added to the configured ones. Records in an AccountStore (pulsed: the
// definitions store's kv scope "pulse.guardian"):
//   "settings"                             {"interval": 10, "owners": {"bob": {...}}, ...}
//   "unbounded/<vhost>/<queue>"            {"vhost": "/", "queue": "queue/bob/q"}
//                                          (vhost and queue percent-encoded in the key)
//
// Thread: its owner's (pulsed's event loop), like the store.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "base/result.h"
#include "pulse/accounts/account_store.h"
#include "pulse/guardian/settings.h"

namespace pulse::api {

struct GuardianOverrides {
  std::optional<std::chrono::seconds> interval;
  std::optional<uint64_t> warn_queue_size;
  std::optional<uint64_t> delete_queue_size;
  std::optional<std::chrono::seconds> idle_queue_expiry;
  std::optional<std::chrono::seconds> max_connection_age;
  std::map<std::string, guardian::OwnerOverride> owners;
  std::set<guardian::QueueRef> unbounded;
};

// The stored and exported form of the scalars and owner thresholds (not the unbounded flags):
// {"interval": 10, "warn_queue_size": 100, "owners": {"bob": {"delete_queue_size": 50}}}.
nlohmann::json overrides_json(const GuardianOverrides& o);
// The reverse, into `o`; the reason when `j` is not that form (a wrong type, an unknown field).
std::optional<std::string> read_overrides(const nlohmann::json& j, GuardianOverrides& o);
// `over`'s scalars and owner entries replace `under`'s, its unbounded flags are added.
GuardianOverrides layer(const GuardianOverrides& under, const GuardianOverrides& over);

// `base` with `o` on top (not validated).
guardian::GuardianSettings merge(const guardian::GuardianSettings& base,
                                 const GuardianOverrides& o);

class GuardianState {
 public:
  // `store` must outlive the state.
  explicit GuardianState(accounts::AccountStore& store) : store_(store) {}

  // Reads the records; a damaged one is an error naming its key.
  Status load();
  const GuardianOverrides& overrides() const { return overrides_; }

  // Each returns when the store has it; on failure nothing changed.
  Status set_settings(const GuardianOverrides& next);  // scalars and owners
  Status add_unbounded(const guardian::QueueRef& q);
  Status remove_unbounded(const guardian::QueueRef& q);
  // A definitions import: `add` layered over what is stored (layer()), then stored.
  Status import(const GuardianOverrides& add);

 private:
  accounts::AccountStore& store_;
  GuardianOverrides overrides_;
};

}  // namespace pulse::api
