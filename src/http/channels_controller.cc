// /api/channels[/{name}], /api/vhosts/{vhost}/channels.
#include "http/api.h"
#include "http/list.h"
#include "http/session_views.h"

namespace pulse::http {

using nlohmann::json;

Response channels_controller(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  const std::string* vhost = nullptr;
  if (c.seg(0) == "vhosts") {
    vhost = &c.seg(1);
    if (auto r = require_vhost(c, *vhost, true)) return *r;
  } else if (c.nseg() == 2) {
    for (const auto& ch : channel_snapshot(c)) {
      if (ch.name() != c.seg(1)) continue;
      if (auto r = require_owner(c, ch.user)) return *r;
      return json_response(channel_json(c.api, ch, true));
    }
    return not_found();
  } else if (c.nseg() != 1) {
    return not_found();
  }
  json out = json::array();
  for (const auto& ch : channel_snapshot(c)) {
    if (vhost != nullptr && ch.vhost != *vhost) continue;
    if (!sees_owner(c, ch.user)) continue;
    out.push_back(channel_json(c.api, ch, false));
  }
  return reply_list(c.req, std::move(out), {{"vhost", "name"}});
}

}  // namespace pulse::http
