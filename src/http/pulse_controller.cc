// /api/pulse/...: Pulse's own resources (issue 14), beside RabbitMQ's API. For now the
// guardian's kept notices:
//   GET /api/pulse/guardian/notices[?after=<id>&limit=<n>]
// Oldest first, each the notice's JSON (as published on exchange/pulse/guardian) with its "id"
// and "routing_key"; a client polling for new ones passes the last id it saw. Notices name
// every owner's queues, so monitoring users and administrators only, like the node-wide
// listings of RabbitMQ's API. 404 when the guardian is off.
#include <charconv>
#include <limits>

#include "http/api.h"

namespace pulse::http {
namespace {

// A non-negative integer query parameter; nullopt when absent, an error when malformed.
std::optional<Response> read_param(const Call& c, const char* name, uint64_t& out) {
  const std::string* v = c.req.param(name);
  if (v == nullptr) return std::nullopt;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
    return bad_request(std::string(name) + " must be a non-negative integer, not '" + *v + "'");
  }
  return std::nullopt;
}

Response guardian_notices(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  if (auto r = require_monitor(c)) return *r;
  uint64_t after = 0;
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  if (auto r = read_param(c, "after", after)) return *r;
  if (auto r = read_param(c, "limit", limit)) return *r;
  const auto& hook = c.api.hooks().guardian_notices;
  std::optional<nlohmann::json> notices;
  if (hook) notices = hook(after, static_cast<size_t>(std::min<uint64_t>(limit, SIZE_MAX)));
  if (!notices) {
    return error_response(404, "not_found",
                          "the Pulse guardian is off (pulse.guardian.enabled = false)");
  }
  return json_response(*notices);
}

}  // namespace

Response pulse_controller(const Call& c) {
  if (c.nseg() == 3 && c.seg(1) == "guardian" && c.seg(2) == "notices") {
    return guardian_notices(c);
  }
  return not_found();
}

}  // namespace pulse::http
