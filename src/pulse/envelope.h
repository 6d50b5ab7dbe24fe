#pragma once
// The Pulse message envelope, as mozillapulse wrote it and its users read it:
//   {"payload": {...}, "_meta": {"exchange", "routing_key", "serializer": "json",
//                                "sent": "2014-08-01T12:46:42+01:00", ...extra fields}}
// Taskcluster publishes bare JSON payloads (no envelope); parsing accepts both.
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace pulse {

struct Envelope {
  nlohmann::json payload;
  // The `_meta` object (exchange, routing_key, serializer, sent, plus any extra fields such as
  // buildbot's master_name). An empty object for a bare (Taskcluster-style) message.
  nlohmann::json meta = nlohmann::json::object();
  // True when the body had the {"payload", "_meta"} shape; false for a bare JSON payload.
  bool wrapped = false;

  std::string exchange() const;     // _meta.exchange or ""
  std::string routing_key() const;  // _meta.routing_key or ""
  std::string sent() const;         // _meta.sent or ""
};

// RFC 3339 with a numeric offset of the local time zone, seconds precision:
// "2026-12-05T06:33:57+01:00" (never "Z", no fraction: mozillapulse's strftime format, which
// Python, JavaScript and dateutil consumers all parse). mozillapulse itself formatted US/Pacific
// wall time and in summer wrote the DST delta (+01:00) as the offset, so a received `sent` is
// text to show, not an instant to compute with; Envelope::sent() therefore returns the string.
std::string rfc3339(std::chrono::system_clock::time_point t);
inline std::string rfc3339_now() {
  return rfc3339(std::chrono::system_clock::now());
}

// The UTF-8 JSON body of an enveloped message. `extra_meta` (an object or null) adds fields to
// `_meta`; the four standard ones always win.
std::string build_envelope(
    const nlohmann::json& payload, std::string_view exchange, std::string_view routing_key,
    const nlohmann::json& extra_meta = nullptr,
    std::chrono::system_clock::time_point sent = std::chrono::system_clock::now());

// Parses a body. A JSON object with both "payload" and "_meta" (an object) is an envelope;
// any other JSON value is a bare payload. Error (code 0) when the body is not JSON.
Result<Envelope> parse_envelope(std::string_view body);

}  // namespace pulse
