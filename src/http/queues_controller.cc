// /api/queues[/{vhost}[/{name}[/bindings|/contents|/get|/actions]]].
#include "amqp/field_table_json.h"
#include "broker/operations.h"
#include "broker/queue_args.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/history.h"
#include "http/list.h"
#include "http/resources.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

bool stats_wanted(const Call& c) {
  const std::string* d = c.req.param("disable_stats");
  return d == nullptr || *d != "true";
}

// disable_stats=true: the stored record, whose state is "live"; enable_queue_totals=true adds
// the message counts (and the running state) as RabbitMQ does for its UI's queue list.
json queue_without_stats(Api& api, broker::Queue& q, bool totals) {
  json j = queue_json(api, q, false);
  j["state"] = "live";
  if (j.contains("leader")) j.erase("node");  // a quorum queue's record names its members
  if (totals) {
    const uint64_t ready = q.message_count(), unacked = q.unacked_count();
    j["state"] = "running";
    j["messages"] = ready + unacked;
    j["messages_ready"] = ready;
    j["messages_unacknowledged"] = unacked;
  }
  return j;
}

Response list_queues(const Call& c, const std::string* only_vhost) {
  SampleRanges ranges = parse_sample_ranges(c.req);
  if (auto r = range_refusal(ranges, true)) return *r;
  auto walk = std::make_shared<VhostWalk>(visible_vhosts(c, only_vhost));
  const std::string* t = c.req.param("enable_queue_totals");
  return reply_list_sliced(
      c, {{"vhost", "name"}, "name", true},
      [walk, &api = c.api, stats = stats_wanted(c), totals = t != nullptr && *t == "true",
       ranges](json& items) {
        return walk->step(
            api.broker(), [](broker::VHost & vh) -> const auto& { return vh.queues(); },
            [&](broker::VHost&, const std::string&, const broker::QueuePtr& q) {
              if (!stats) {
                items.push_back(queue_without_stats(api, *q, totals));
                return;
              }
              json j = queue_json(api, *q, true);
              if (ranges.any()) api.stats().add_queue_samples(j, *q, ranges);
              items.push_back(std::move(j));
            });
      });
}

Response put_queue(const Call& c, broker::VHost& vh, const std::string& name) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  broker::QueueDeclare d;
  d.name = name;
  // As queue.declare's defaults: not durable (rabbitmqadmin and the web UI send durable).
  if (auto e = read_flag(*body, "durable", d.durable)) return *e;
  if (auto e = read_flag(*body, "auto_delete", d.auto_delete)) return *e;
  if (auto a = body->find("arguments"); a != body->end() && !a->is_null()) {
    auto t = amqp::json_to_field_table(*a);
    if (!t) return bad_request(t.error().text);
    d.arguments = std::move(*t);
  }
  // A top-level "type" field is ignored by RabbitMQ 3.10 (only x-queue-type counts).
  // Declared once the body is decoded, as RabbitMQ declares through a channel.
  bool existed = vh.find_queue(name) != nullptr;
  auto who = principal(c, vh);
  auto r = broker::ops::declare_queue(who, std::move(d));
  if (!r) return broker_error(r.error());
  return empty_response(existed ? 204 : 201);
}

Response delete_queue(const Call& c, broker::VHost& vh, const std::string& name) {
  if (!vh.find_queue(name)) return not_found();
  auto flag = [&](const char* key) {
    const std::string* p = c.req.param(key);
    return p != nullptr && *p == "true";
  };
  auto who = principal(c, vh);
  auto r = broker::ops::delete_queue(who, name, flag("if-unused"), flag("if-empty"));
  if (!r) return broker_error(r.error());
  return empty_response(204);
}

Response purge_queue(const Call& c, broker::VHost& vh, const std::string& name) {
  if (!vh.find_queue(name)) return not_found();
  auto who = principal(c, vh);
  auto r = broker::ops::purge_queue(who, name);
  if (!r) return broker_error(r.error());
  return empty_response(204);
}

}  // namespace

Response queues_controller(const Call& c) {
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_queues(c, nullptr);
  }
  const std::string& vhost = c.seg(1);
  if (auto r = require_vhost(c, vhost, m == "GET")) return *r;
  broker::VHost& vh = *c.broker().find_vhost(vhost);
  if (c.nseg() == 2) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_queues(c, &vhost);
  }
  const std::string& name = c.seg(2);
  if (c.nseg() == 3) {
    if (m == "GET") {
      auto q = vh.find_queue(name);
      if (!q) return not_found();
      SampleRanges ranges = parse_sample_ranges(c.req);
      if (auto r = range_refusal(ranges, false)) return *r;
      if (!stats_wanted(c)) return json_response(queue_without_stats(c.api, *q, false));
      json j = queue_json(c.api, *q, true);
      if (ranges.any()) c.api.stats().add_queue_samples(j, *q, ranges);
      return reply_queue_with_consumers(c, vhost, name, std::move(j));
    }
    if (m == "PUT") return put_queue(c, vh, name);
    if (m == "DELETE") return delete_queue(c, vh, name);
    return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
  }
  if (c.nseg() == 4 && c.seg(3) == "contents") {
    if (m != "DELETE") return method_not_allowed("DELETE, OPTIONS");
    return purge_queue(c, vh, name);
  }
  if (c.nseg() == 4 && c.seg(3) == "get") {  // answers a missing queue itself, as RabbitMQ
    if (m != "POST") return method_not_allowed("POST, OPTIONS");
    return get_messages(c, vh, name);
  }
  if (!vh.find_queue(name)) return not_found();
  if (c.nseg() == 4 && c.seg(3) == "bindings") {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    json out = json::array();
    for_each_binding_to(vh, nullptr, broker::Destination{false, name},
                        [&](const broker::Binding& b) { out.push_back(binding_json(vhost, b)); });
    return reply_list(c.req, std::move(out), {});
  }
  return not_found();
}

}  // namespace pulse::http
