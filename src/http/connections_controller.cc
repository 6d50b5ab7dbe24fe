// /api/connections[/{name}[/channels]], /api/connections/username/{user},
// /api/vhosts/{vhost}/connections.
#include "http/api.h"
#include "http/list.h"
#include "http/session_views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

const ListSpec kSpec{{"vhost", "name"}};

// RabbitMQ's reason when the request carries no X-Reason header.
std::string close_reason(const Call& c) {
  return c.req.x_reason.empty() ? "Closed via management plugin" : c.req.x_reason;
}

Response list(const Call& c, const std::string* vhost) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  if (vhost != nullptr) {
    if (auto r = require_vhost(c, *vhost, true)) return *r;
  }
  std::optional<std::string> only;
  Request req = c.req;
  if (vhost != nullptr) {
    only = *vhost;
    req.query.erase("page");  // RabbitMQ 3.10 does not paginate a vhost's connections
  }
  return reply_sessions_sliced(c, req, kSpec,
                               [only, sees = owner_filter(c)](Api& api, uint64_t id, json& items) {
                                 const auto& find = api.hooks().connection;
                                 auto conn = find ? find(id) : std::nullopt;
                                 if (!conn || (only && conn->vhost != *only) || !sees(conn->user))
                                   return;
                                 items.push_back(connection_json(api, *conn, false));
                               });
}

// GET lists a user's connections in short form; DELETE closes them all.
Response by_username(const Call& c, const std::string& user) {
  const auto& m = c.method();
  if (m != "GET" && m != "DELETE") return method_not_allowed("HEAD, GET, DELETE, OPTIONS");
  if (auto r = require_owner(c, user)) return *r;
  json out = json::array();
  std::vector<uint64_t> ids;
  for (const auto& conn : connection_snapshot(c)) {
    if (conn.user != user) continue;
    ids.push_back(conn.id);
    out.push_back({{"name", conn.name},
                   {"node", c.api.node_name()},
                   {"user", conn.user},
                   {"vhost", conn.vhost}});
  }
  if (m == "GET") return reply_list(c.req, std::move(out), kSpec);
  const auto& close = c.api.hooks().close_connection;
  if (close)
    for (uint64_t id : ids) close(id, close_reason(c));
  return empty_response(204);
}

Response one(const Call& c, const std::string& name) {
  const auto& m = c.method();
  const bool channels = c.nseg() == 3;
  if (channels ? m != "GET" : (m != "GET" && m != "DELETE"))
    return method_not_allowed(channels ? "HEAD, GET, OPTIONS" : "HEAD, GET, DELETE, OPTIONS");
  // Connection names hold " -> ", so a linear search is the lookup; listings are cheap
  // snapshots.
  std::optional<ConnectionInfo> found;
  for (auto& conn : connection_snapshot(c)) {
    if (conn.name == name) {
      found = std::move(conn);
      break;
    }
  }
  if (!found) return not_found();
  if (auto r = require_owner(c, found->user)) return *r;
  if (channels) {
    json out = json::array();
    for (const auto& ch : channel_snapshot(c))
      if (ch.connection_id == found->id) out.push_back(channel_json(c.api, ch, false));
    return reply_list(c.req, std::move(out), kSpec);
  }
  if (m == "GET") return json_response(connection_json(c.api, *found, true));
  if (const auto& close = c.api.hooks().close_connection) close(found->id, close_reason(c));
  return empty_response(204);
}

}  // namespace

Response connections_controller(const Call& c) {
  if (c.seg(0) == "vhosts") return list(c, &c.seg(1));  // /api/vhosts/{vhost}/connections
  if (c.nseg() == 1) return list(c, nullptr);
  if (c.nseg() == 3 && c.seg(1) == "username") return by_username(c, c.seg(2));
  if (c.nseg() == 2 || (c.nseg() == 3 && c.seg(2) == "channels")) return one(c, c.seg(1));
  return not_found();
}

}  // namespace pulse::http
