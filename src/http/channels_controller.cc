// /api/channels[/{name}], /api/vhosts/{vhost}/channels.
#include "http/api.h"
#include "http/history.h"
#include "http/list.h"
#include "http/session_views.h"

namespace pulse::http {

using nlohmann::json;

Response channels_controller(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  if (auto r = range_refusal(c.req)) return *r;
  const std::string* vhost = nullptr;
  if (c.seg(0) == "vhosts") {
    vhost = &c.seg(1);
    if (auto r = require_vhost(c, *vhost, true)) return *r;
  } else if (c.nseg() == 2) {
    auto ch = find_channel(c, c.seg(1));
    if (!ch) return not_found();
    if (auto r = require_owner(c, ch->user)) return *r;
    return json_response(channel_json(c.api, *ch, true));
  } else if (c.nseg() != 1) {
    return not_found();
  }
  std::optional<std::string> only;
  Request req = c.req;
  if (vhost != nullptr) {
    only = *vhost;
    req.query.erase("page");  // RabbitMQ 3.10 does not paginate a vhost's channels
  }
  return reply_sessions_sliced(c, req, {{"vhost", "name"}, "name", true},
                               [only, sees = owner_filter(c)](Api& api, uint64_t id, json& items) {
                                 const auto& channels = api.hooks().connection_channels;
                                 if (!channels) return;
                                 for (const auto& ch : channels(id))
                                   if ((!only || ch.vhost == *only) && sees(ch.user))
                                     items.push_back(channel_json(api, ch, false));
                               });
}

}  // namespace pulse::http
