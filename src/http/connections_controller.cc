// /api/connections[/{name}[/channels]], /api/connections/username/{user},
// /api/vhosts/{vhost}/connections.
#include "http/api.h"
#include "http/history.h"
#include "http/list.h"
#include "http/session_views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

const ListSpec kSpec{{"vhost", "name"}, "name", true};

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

// GET lists a user's connections in short form; DELETE closes them all. Both walk the
// connections in slices, as the listings.
Response by_username(const Call& c, const std::string& user) {
  const auto& m = c.method();
  if (m != "GET" && m != "DELETE") return method_not_allowed("HEAD, GET, DELETE, OPTIONS");
  if (auto r = require_owner(c, user)) return *r;
  if (m == "GET") {
    return reply_sessions_sliced(c, c.req, kSpec, [user](Api& api, uint64_t id, json& items) {
      const auto& find = api.hooks().connection;
      auto conn = find ? find(id) : std::nullopt;
      if (!conn || conn->user != user) return;
      items.push_back({{"name", conn->name},
                       {"node", api.node_name()},
                       {"user", conn->user},
                       {"vhost", conn->vhost}});
    });
  }
  const auto& h = c.api.hooks();
  auto ids = std::make_shared<std::vector<uint64_t>>(h.connection_ids ? h.connection_ids()
                                                                      : std::vector<uint64_t>{});
  auto next = std::make_shared<size_t>(0);
  run_sliced(
      c.api.scheduler(),
      [&h, ids, next, user, reason = close_reason(c)] {
        if (*next >= ids->size()) return false;
        const uint64_t id = (*ids)[(*next)++];
        auto conn = h.connection ? h.connection(id) : std::nullopt;
        if (conn && conn->user == user && h.close_connection) h.close_connection(id, reason);
        return *next < ids->size();
      },
      [respond = c.respond] { respond(empty_response(204)); });
  return deferred();
}

Response one(const Call& c, const std::string& name) {
  const auto& m = c.method();
  const bool channels = c.nseg() == 3;
  if (channels ? m != "GET" : (m != "GET" && m != "DELETE"))
    return method_not_allowed(channels ? "HEAD, GET, OPTIONS" : "HEAD, GET, DELETE, OPTIONS");
  auto found = find_connection(c, name);
  if (!found) return not_found();
  if (auto r = require_owner(c, found->user)) return *r;
  const auto& h = c.api.hooks();
  if (channels) {
    json out = json::array();
    if (h.connection_channels)
      for (const auto& ch : h.connection_channels(found->id))
        out.push_back(channel_json(c.api, ch, false));
    return reply_list(c.req, std::move(out), kSpec);
  }
  if (m == "GET") return json_response(connection_json(c.api, *found, true));
  if (h.close_connection) h.close_connection(found->id, close_reason(c));
  return empty_response(204);
}

}  // namespace

Response connections_controller(const Call& c) {
  if (c.method() == "GET")
    if (auto r = range_refusal(c.req)) return *r;
  if (c.seg(0) == "vhosts") return list(c, &c.seg(1));  // /api/vhosts/{vhost}/connections
  if (c.nseg() == 1) return list(c, nullptr);
  if (c.nseg() == 3 && c.seg(1) == "username") return by_username(c, c.seg(2));
  if (c.nseg() == 2 || (c.nseg() == 3 && c.seg(2) == "channels")) return one(c, c.seg(1));
  return not_found();
}

}  // namespace pulse::http
