#pragma once
// RFC 3339 times, read and written in one place: the Pulse API's request bodies, the accounts
// records in the definitions store, RabbitMQ's management API texts, and the UTC stamps of
// pulsed's own API and notices.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pulse {

using SystemTime = std::chrono::system_clock::time_point;

// Strict RFC 3339: "2027-01-15T08:00:00Z", "2027-01-15T09:00:00.5+01:00" (T and Z in either
// case, a fraction of any length, an offset of +HH:MM or -HH:MM). The date must exist (no 30
// February); second 60 is a leap second, read as the next minute's first. nullopt otherwise.
std::optional<SystemTime> parse_rfc3339(std::string_view text);

// What RabbitMQ's management API writes besides: "2026-12-05 9:22:27" (older versions'
// rabbit_mgmt_format:now_to_str: a space for T, the hour unpadded, no offset, meaning UTC) and
// offsets without a colon or minutes ("+0100", "+01"). Every text parse_rfc3339 reads too.
std::optional<SystemTime> parse_management_time(std::string_view text);

// UTC: "2027-01-15T08:00:00Z"; fraction_digits (0 to 9, truncated) adds ".123" for 3;
// utc_zone is what stands for UTC ("Z", or "+00:00" where readers expect an offset).
std::string format_rfc3339_utc(SystemTime t, int fraction_digits = 0,
                               std::string_view utc_zone = "Z");

}  // namespace pulse
