// POST /guardian/notices: an administrator tells a queue's owner something before acting (the
// UI's "Notify the owner first"). The notice goes to the running guardian's sinks like the
// policy's own (published on exchange/pulse/guardian, mailed, logged, kept in the NoticeLog), so
// the owner reads it wherever they read the guardian's.
#include <algorithm>
#include <cctype>

#include "pulse/admin/naming.h"
#include "pulse/api/api.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::api {

using nlohmann::json;

ApiResponse PulseApi::operator_notice(const ApiRequest& req, const Caller& caller) {
  if (!caller.admin) return access_refused("only administrators may send notices");
  if (runner_ == nullptr || notices_ == nullptr) return not_running();

  ApiResponse error;
  auto body = BodyReader::parse(req.body, error);
  if (!body) return error;
  body->only({"vhost", "queue", "message"});
  auto vhost = body->string("vhost", kMaxBody, true);
  auto queue = body->string("queue", kMaxBody, true);
  auto message = body->string("message", kMaxText, true);
  if (!body->ok()) return bad_request(body->error());
  if (auto e = check_amqp_name(*vhost, "'vhost'")) return *e;
  if (auto e = check_amqp_name(*queue, "'queue'")) return *e;
  if (std::all_of(message->begin(), message->end(),
                  [](unsigned char c) { return std::isspace(c); }))
    return bad_request("'message' is empty");

  auto queues = runner_->admin().list_queues();
  if (!queues) return from_error(queues.error());
  const auto found = std::find_if(queues->begin(), queues->end(), [&](const auto& q) {
    return q.vhost == *vhost && q.name == *queue;
  });
  if (found == queues->end())
    return not_found("no queue '" + *queue + "' in vhost '" + *vhost + "'");

  guardian::Notice n;
  n.event = guardian::Event::kOperator;
  n.at = clock_();
  n.vhost = found->vhost;
  n.owner = admin::owner_of_queue(found->name);
  n.queue = found->name;
  n.messages = found->messages;
  n.messages_ready = found->messages_ready;
  n.messages_unacknowledged = found->messages_unacknowledged;
  n.consumers = found->consumers;
  n.bindings = found->bindings;
  n.operator_name = caller.name;
  n.message = std::move(*message);

  const uint64_t before = notices_->last_id();
  runner_->announce(n);
  json out = guardian::notice_json(n);
  // As GET /guardian/notices lists it: with the id the NoticeLog gave it (a guardian without a
  // kept log has none to give).
  const auto& kept = notices_->entries();
  out["id"] = notices_->last_id() > before && !kept.empty() ? json(kept.back().id) : json(nullptr);
  out["routing_key"] = guardian::notice_routing_key(n);
  return json_response(std::move(out), 201);
}

}  // namespace pulse::api
