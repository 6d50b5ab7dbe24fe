// /api/vhost-limits[/{vhost}[/{name}]], /api/user-limits[/{user}[/{name}]] and the
// vhost-limits component of /api/parameters, as RabbitMQ 3.10's rabbit_mgmt_wm_limits,
// rabbit_mgmt_wm_limit, rabbit_mgmt_wm_user_limits, rabbit_mgmt_wm_user_limit and
// rabbit_mgmt_wm_parameter(s). The limits themselves, their validation and texts are the
// broker's (broker/limits.h); vhost limits reach storage through the broker's definitions
// observer, user limits through the user_changed hook.
//
// Deviations, where RabbitMQ 3.10.8 crashes with an empty 500: DELETE of a limit of a vhost or
// user that does not exist is 404 "Object Not Found"; a vhost-limits parameter not named
// "limits" is refused with 400 instead of being stored without effect.
#include "amqp/field_table_json.h"
#include "broker/limits.h"
#include "definitions/snapshot.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/list.h"

namespace pulse::http {
namespace {

using broker::LimitKind;
using broker::LimitList;
using definitions::limits_json;
using nlohmann::json;

// These endpoints answer validation failures unescaped (rabbit_mgmt_wm_limit and
// rabbit_mgmt_wm_user_limit call bad_request with the reason as it is).
Response bad_request_raw(const std::string& reason) {
  return error_response(400, "bad_request", reason);
}

// The JSON body's "value" as a field value; the 400 to answer otherwise.
std::optional<amqp::FieldValue> read_value(const Call& c, Response& err) {
  auto body = parse_body(c, err);
  if (!body) return std::nullopt;
  if (auto e = require_keys(*body, {"value"})) {
    err = *e;
    return std::nullopt;
  }
  auto v = amqp::json_to_field_value(body->at("value"));
  if (!v) {
    err = bad_request(v.error().text);
    return std::nullopt;
  }
  return std::move(*v);
}

Response vhost_limits(const Call& c) {
  const size_t n = c.nseg();
  if (n > 3) return not_found();
  const std::string& m = c.method();
  if (n < 3) {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, OPTIONS");
    if (n == 2) {
      if (auto r = require_vhost(c, c.seg(1), /*visible=*/true)) return *r;
    }
    json items = json::array();
    for (const auto& [name, vh] : c.broker().vhosts()) {
      if (!vh->limits() || (n == 2 && name != c.seg(1)) || !vhost_visible(c, name)) continue;
      // RabbitMQ lists a vhost whose limits were all deleted (an empty parameter) in the
      // listing of all vhosts, but not on its own.
      if (n == 2 && vh->limits()->empty()) continue;
      items.push_back({{"vhost", name}, {"value", limits_json(*vh->limits())}});
    }
    return reply_list(c.req, std::move(items), {{"vhost"}});
  }
  if (m != "PUT" && m != "DELETE") return method_not_allowed("PUT, DELETE, OPTIONS");
  if (auto r = require_admin(c)) return *r;
  broker::VHost* vh = c.broker().find_vhost(c.seg(1));
  const std::string& name = c.seg(2);
  if (m == "DELETE") {
    if (vh == nullptr) return not_found();
    vh->clear_limit(name);
    return empty_response(204);
  }
  if (vh == nullptr) return error_response(404, "not_found", "vhost_not_found");
  Response err;
  auto value = read_value(c, err);
  if (!value) return err;
  // The stored pairs are valid already: only the new one needs checking.
  auto reasons =
      broker::limit_errors(LimitKind::kVhost, amqp::FieldValue{amqp::FieldTable{{name, *value}}});
  if (!reasons.empty()) return bad_request_raw(broker::validation_failed_text(reasons));
  vh->set_limit(name, *value->as_int());
  return empty_response(204);
}

void user_changed(const Call& c, const std::string& user) {
  if (c.api.hooks().user_changed) c.api.hooks().user_changed(user);
}

// Any management user may read every user's limits, as in RabbitMQ.
Response user_limits(const Call& c) {
  const size_t n = c.nseg();
  if (n > 3) return not_found();
  const std::string& m = c.method();
  if (n < 3) {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, OPTIONS");
    if (n == 2 && c.auth().find_user(c.seg(1)) == nullptr) return not_found();
    json items = json::array();
    for (const auth::User* u : c.auth().users()) {
      if (u->limits.empty() || (n == 2 && u->name != c.seg(1))) continue;
      items.push_back({{"user", u->name}, {"value", json(u->limits)}});
    }
    return reply_list(c.req, std::move(items), {{"user"}});
  }
  if (m != "PUT" && m != "DELETE") return method_not_allowed("PUT, DELETE, OPTIONS");
  if (auto r = require_admin(c)) return *r;
  const std::string& user = c.seg(1);
  const std::string& name = c.seg(2);
  if (m == "DELETE") {
    if (!c.auth().clear_user_limit(user, name)) return not_found();
    user_changed(c, user);
    return empty_response(204);
  }
  Response err;
  auto value = read_value(c, err);
  if (!value) return err;
  auto reasons =
      broker::limit_errors(LimitKind::kUser, amqp::FieldValue{amqp::FieldTable{{name, *value}}});
  // rabbit_auth_backend_internal formats a single reason, without "Validation failed".
  if (!reasons.empty()) return bad_request_raw(reasons.front());
  if (!c.auth().merge_user_limits(user, {{name, *value->as_int()}}))
    return bad_request_term("no_such_user", user);
  user_changed(c, user);
  return empty_response(204);
}

json parameter_json(const std::string& vhost, const LimitList& limits) {
  return {{"value", limits_json(limits)},
          {"vhost", vhost},
          {"component", broker::kVhostLimitsComponent},
          {"name", broker::kVhostLimitsName}};
}

// Only the vhost-limits component exists in pulsed (no shovel, federation, ...).
Response parameters(const Call& c) {
  const size_t n = c.nseg();
  if (n > 4) return not_found();
  const std::string& m = c.method();
  if (n < 4 && m != "GET" && m != "HEAD") return method_not_allowed("GET, OPTIONS");
  if (n == 4 && m != "GET" && m != "HEAD" && m != "PUT" && m != "DELETE")
    return method_not_allowed("GET, PUT, DELETE, OPTIONS");
  // rabbit_mgmt_util:is_authorized_policies: a policymaker with access to the vhost named.
  const char* refused = "User not authorised to access object";
  if (!is_policymaker(c.user)) return not_authorised(refused);
  broker::VHost* vh = n >= 3 ? c.broker().find_vhost(c.seg(2)) : nullptr;
  if (n >= 3) {
    if (vh == nullptr) {
      if (m == "PUT") return error_response(404, "not_found", "vhost_not_found");
      return not_found();
    }
    if (!c.auth().has_vhost_access(c.user.name, c.seg(2))) return not_authorised(refused);
  }
  const bool limits_component = n < 2 || c.seg(1) == broker::kVhostLimitsComponent;
  if (n < 4) {
    json items = json::array();
    for (const auto& [name, v] : c.broker().vhosts()) {
      if (!limits_component || !v->limits() || (vh != nullptr && v.get() != vh) ||
          !vhost_visible(c, name))
        continue;
      items.push_back(parameter_json(name, *v->limits()));
    }
    return reply_list(c.req, std::move(items), {{"vhost", "component", "name"}});
  }
  const bool ours = limits_component && c.seg(3) == broker::kVhostLimitsName;
  if (m == "GET" || m == "HEAD") {
    if (!ours || !vh->limits()) return not_found();
    return json_response(parameter_json(vh->name(), *vh->limits()));
  }
  if (m == "DELETE") {
    if (!ours || !vh->limits()) return not_found();
    vh->set_limits(std::nullopt);
    return empty_response(204);
  }
  Response err;
  auto value = read_value(c, err);
  if (!value) return err;
  if (!limits_component)
    return bad_request(broker::validation_failed_text({"component " + c.seg(1) + " not found"}));
  if (!ours) {
    return bad_request(broker::validation_failed_text(
        {"a vhost-limits parameter must be named 'limits', not '" + c.seg(3) + "'"}));
  }
  auto reasons = broker::limit_errors(LimitKind::kVhost, *value);
  if (!reasons.empty()) return bad_request(broker::validation_failed_text(reasons));
  const bool created = !vh->limits().has_value();
  vh->set_limits(broker::limit_list(*value));
  return empty_response(created ? 201 : 204);
}

}  // namespace

Response limits_controller(const Call& c) {
  const std::string& s = c.seg(0);
  if (s == "vhost-limits") return vhost_limits(c);
  if (s == "user-limits") return user_limits(c);
  return parameters(c);
}

}  // namespace pulse::http
