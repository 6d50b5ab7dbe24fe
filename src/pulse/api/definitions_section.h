#pragma once
// Pulse's state in a definitions export: the top-level "pulse" object of GET /api/definitions,
// read back by POST /api/definitions and pulsed's boot-time definitions file. Version 1:
//   {"version": 1,
//    "owners":   [{"email", "display_name", "admin", "created", "login"}],
//    "users":    [{"name", "owners", "created", "description"}],
//    "claims":   [{"namespace", "expires", "contact", "users", "current", "password",
//                  "created", "last_rotation"}],
//    "guardian": {"settings": {<the guardian's API overrides>},
//                 "unbounded": [{"vhost", "queue"}]}}
// Each owner, user and claim is its account record (accounts/model.h) as stored; "settings" is
// what PUT /api/pulse/guardian[/owners/..] stored (overrides_json). A claim carries the current
// user's password in clear (it is handed out on a refresh), like the store does.
//
// Pure: parse_section runs on the management API's worker.
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/result.h"
#include "pulse/accounts/model.h"
#include "pulse/api/guardian_state.h"

namespace pulse::api {

inline constexpr int kSectionVersion = 1;
inline constexpr const char* kSectionKey = "pulse";

struct PulseSection {
  std::vector<accounts::Record> accounts;  // owner/..., user/..., claim/... records
  GuardianOverrides guardian;              // settings and unbounded flags to layer on
};

// The "pulse" object, or nothing when there is no state at all (a bare pulsed's export keeps
// RabbitMQ's shape).
std::optional<nlohmann::json> export_section(const accounts::AccountState& accounts,
                                             const GuardianOverrides& guardian);

// Refuses anything damaged before anything is applied, naming the entry:
// `pulse.owners[0] ('a@example.com'): 'created' must be an RFC 3339 time such as ...`.
Result<PulseSection> parse_section(const nlohmann::json& j);

}  // namespace pulse::api
