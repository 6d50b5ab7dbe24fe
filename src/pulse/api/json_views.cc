#include "pulse/api/json_views.h"

#include "pulse/api/request.h"

namespace pulse::api {

using nlohmann::json;

json owner_json(const accounts::Owner& o, const std::vector<std::string>& users) {
  return {{"email", o.email}, {"display_name", o.display_name},
          {"admin", o.admin}, {"created", format_rfc3339(o.created)},
          {"login", o.login}, {"users", users}};
}

json user_json(const accounts::PulseUser& u) {
  return {{"name", u.name},
          {"owners", u.owners},
          {"description", u.description},
          {"created", format_rfc3339(u.created)}};
}

json queue_json(const admin::QueueInfo& q) {
  json bindings = json::array();
  for (const auto& b : q.bindings)
    bindings.push_back({{"source", b.source}, {"routing_key", b.routing_key}});
  return {{"vhost", q.vhost},
          {"name", q.name},
          {"messages", q.messages},
          {"messages_ready", q.messages_ready},
          {"messages_unacknowledged", q.messages_unacknowledged},
          {"consumers", q.consumers},
          {"durable", q.durable},
          {"auto_delete", q.auto_delete},
          {"exclusive", q.exclusive},
          {"idle_since", q.idle_since ? json(format_rfc3339(*q.idle_since)) : json(nullptr)},
          {"bindings", std::move(bindings)}};
}

json claim_json(const accounts::NamespaceClaim& c, const accounts::AccountSettings& s) {
  return {{"namespace", c.ns},
          {"expires", format_rfc3339(c.expires)},
          {"contact", c.contact},
          {"users", {c.users[0], c.users[1]}},
          {"current_user", c.users[static_cast<size_t>(c.current)]},
          {"created", format_rfc3339(c.created)},
          {"last_rotation", format_rfc3339(c.last_rotation)},
          {"reclaim_at", format_rfc3339(c.last_rotation + s.rotation_interval)}};
}

json credentials_json(const accounts::Credentials& c) {
  return {{"namespace", c.ns},
          {"username", c.username},
          {"password", c.password},
          {"connection_string", c.connection_string},
          {"expires", format_rfc3339(c.expires)},
          {"reclaim_at", format_rfc3339(c.reclaim_at)}};
}

}  // namespace pulse::api
