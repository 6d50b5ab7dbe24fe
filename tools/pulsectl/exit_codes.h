#pragma once
// pulsectl's exit statuses. Scripts branch on them, so they are part of the interface (README.md
// and --help list them). 69 and 77 are sysexits.h's EX_UNAVAILABLE and EX_NOPERM.
//
// Inside pulsectl, pulse::Error::code carries the exit status a failure ends the process with.
#include "mgmt/errors.h"

namespace pulse::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitApiError = 1;      // the server refused or failed the request
inline constexpr int kExitUsage = 2;         // bad command line or bad input file
inline constexpr int kExitNotFound = 3;      // the object (or its vhost) does not exist
inline constexpr int kExitUnreachable = 69;  // no HTTP answer: refused, unresolvable, timed out
inline constexpr int kExitAuth = 77;         // 401 (and /api/pulse's 403): not allowed

// The HTTP client library's codes are these exit statuses, passed through as they are.
static_assert(kExitUsage == mgmt::kBadSettings);
static_assert(kExitUnreachable == mgmt::kUnreachable);

}  // namespace pulse::ctl
