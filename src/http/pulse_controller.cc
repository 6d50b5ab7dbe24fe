// /api/pulse/...: Pulse's own resources (issue 14), beside RabbitMQ's API. The router is
// pulse/api's PulseApi, which app/ hands in as Hooks::pulse_api: http authenticates (Basic
// auth, a management tag, the failure limiter) and passes the request on with the user.
#include "http/api.h"

namespace pulse::http {

Response pulse_controller(const Call& c) {
  const auto& hook = c.api.hooks().pulse_api;
  if (!hook) return not_found();
  return hook(c.req, c.user);
}

}  // namespace pulse::http
