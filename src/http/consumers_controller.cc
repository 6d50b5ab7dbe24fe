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

Response reply_queue_with_consumers(const Call& c, const std::string& vhost,
                                    const std::string& name, json queue) {
  struct Job {
    json obj;
    size_t next = 0;
  };
  auto job = std::make_shared<Job>();
  job->obj = std::move(queue);
  job->obj["consumer_details"] = json::array();
  job->obj["deliveries"] = json::array();
  job->obj["incoming"] = json::array();
  Scheduler& s = c.api.scheduler();
  // By position in the queue's list, found again by name each step: a consumer that comes or
  // goes meanwhile may shift the rest by one, as any listing made while things change.
  run_sliced(
      s,
      [job, &api = c.api, vhost, name] {
        const auto& consumers = api.hooks().queue_consumers;
        broker::VHost* vh = api.broker().find_vhost(vhost);
        broker::QueuePtr q = vh != nullptr ? vh->find_queue(name) : nullptr;
        if (!consumers || !q || job->next >= q->consumer_count()) return false;
        constexpr size_t kStep = 16;
        auto& details = job->obj["consumer_details"];
        for (const auto& ch : consumers(*q, job->next, kStep))
          for (const auto& cons : ch.consumers) details.push_back(consumer_json(api, ch, cons));
        job->next += kStep;
        return job->next < q->consumer_count();
      },
      [&s, job, respond = c.respond] {
        answer_from_worker(s, respond, [job] { return json_response(job->obj); });
      });
  return deferred();
}

}  // namespace pulse::http
