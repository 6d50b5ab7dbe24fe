#pragma once
// A notice's three outward forms: the JSON payload published in the Pulse envelope on
// exchange/pulse/guardian, its routing key, and the email (subject and plain-text body).
#include <string>

#include <nlohmann/json.hpp>

#include "pulse/guardian/policy.h"

namespace pulse::guardian {

inline constexpr const char* kNoticeExchange = "exchange/pulse/guardian";
// The owner word of a notice without an owner. '_' can never be a Pulse user name (those start
// with a letter), and Taskcluster already uses "_" for a missing routing-key word.
inline constexpr const char* kNoOwner = "_";

// "<event>.<owner>", e.g. "warning.alice", "deleted._". Owners may contain dots (user names
// do), so subscribe to one owner's notices with `*.<owner>`, whose `*` is the event.
std::string notice_routing_key(const Notice& notice);

// The envelope's payload. Times are RFC 3339 in UTC ("+00:00"); absent values are null.
nlohmann::json notice_json(const Notice& notice);

// PulseGuardian's subjects for queues (`Pulse warning: queue "X" is overgrowing`, `... has
// been deleted`, `... is back to normal`; an idle deletion is a deletion too, so owners' mail
// filters keep working), and `Pulse warning: connection "X" has been closed`.
std::string email_subject(const Notice& notice);

// Names the queue, its vhost, owner, size, growth rate, consumers, bindings with their
// exchanges and the thresholds; for a connection its user, peer, age and the limit.
std::string email_body(const Notice& notice);

// "2026-12-05T11:00:00+00:00".
std::string rfc3339_utc(TimePoint t);

}  // namespace pulse::guardian
