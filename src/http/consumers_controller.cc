// /api/consumers[/{vhost}], and the consumer_details of one queue.
#include "http/api.h"
#include "http/list.h"
#include "http/session_views.h"

namespace pulse::http {

using nlohmann::json;

Response consumers_controller(const Call& c) {
  if (c.nseg() > 2) return not_found();
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  const std::string* vhost = c.nseg() == 2 ? &c.seg(1) : nullptr;
  // RabbitMQ checks only that the vhost exists here; what is shown is filtered by user.
  if (vhost != nullptr && c.broker().find_vhost(*vhost) == nullptr) return not_found();
  std::optional<std::string> only;
  if (vhost != nullptr) only = *vhost;
  // RabbitMQ 3.10 never paginates consumers: `page` is ignored.
  Request req = c.req;
  req.query.erase("page");
  return reply_sessions_sliced(c, req, {},
                               [only, sees = owner_filter(c)](Api& api, uint64_t id, json& items) {
                                 const auto& channels = api.hooks().connection_channels;
                                 if (!channels) return;
                                 for (const auto& ch : channels(id)) {
                                   if ((only && ch.vhost != *only) || !sees(ch.user)) continue;
                                   for (const auto& cons : ch.consumers)
                                     items.push_back(consumer_json(api, ch, cons));
                                 }
                               });
}

json queue_consumer_details(const Call& c, const std::string& vhost, const std::string& queue) {
  json out = json::array();
  for (const auto& ch : channel_snapshot(c)) {
    if (ch.vhost != vhost) continue;
    for (const auto& cons : ch.consumers)
      if (cons.queue == queue) out.push_back(consumer_json(c.api, ch, cons));
  }
  return out;
}

}  // namespace pulse::http
