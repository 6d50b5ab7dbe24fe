// Resources of RabbitMQ features pulsed does not have (operator policies): answered as RabbitMQ
// answers while none are set, so rabbitmqadmin's `list operator_policies`, dashboards and
// RabbitMQ's own UI work. (Runtime parameters and limits are limits_controller.cc's.) Plus
// /api/feature-flags (what pulsed implements) and /api/auth, which RabbitMQ's UI asks before anyone
// logs in.
#include "http/api.h"
#include "http/list.h"

namespace pulse::http {
namespace {

using nlohmann::json;

json feature_flags() {
  struct Flag {
    const char* name;
    const char* desc;
    const char* doc_url;
  };
  // Only the flags whose behaviour pulsed has.
  static const Flag kFlags[] = {
      {"implicit_default_bindings",
       "Default bindings are now implicit, instead of being stored in the database", ""},
      {"quorum_queue", "Support queues of type `quorum`",
       "https://www.rabbitmq.com/quorum-queues.html"},
      {"user_limits", "Configure connection and channel limits for a user", ""},
      {"virtual_host_metadata", "Virtual host metadata (description, tags, etc)", ""},
  };
  json out = json::array();
  for (const Flag& f : kFlags)
    out.push_back({{"name", f.name},
                   {"desc", f.desc},
                   {"doc_url", f.doc_url},
                   {"state", "enabled"},
                   {"stability", "stable"},
                   {"provided_by", "rabbit"}});
  return out;
}

Response empty_list(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  return reply_list(c.req, json::array(), {});
}

bool vhost_known(const Call& c, const std::string& vhost) {
  return c.broker().find_vhost(vhost) != nullptr && vhost_visible(c, vhost);
}

}  // namespace

Response auth_settings() {
  return json_response({{"enable_uaa", false}, {"uaa_client_id", ""}, {"uaa_location", ""}});
}

Response optional_features_controller(const Call& c) {
  const std::string& s = c.seg(0);
  const size_t n = c.nseg();
  if (s == "feature-flags") {
    if (auto r = require_admin(c)) return *r;
    if (n != 1) return not_found();
    if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return reply_list(c.req, feature_flags(), {{"name"}});
  }
  if (s == "operator-policies") {
    if (n >= 2 && !vhost_known(c, c.seg(1))) return not_found();
    if (n >= 3) return not_found();
    return empty_list(c);
  }
  return not_found();
}

}  // namespace pulse::http
