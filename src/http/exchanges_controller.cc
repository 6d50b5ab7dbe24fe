// /api/exchanges[/{vhost}[/{name}[/bindings/source|destination|/publish]]]. Mutations are the
// broker operations acting as the user, as RabbitMQ's management plugin acts through
// rabbit_channel's methods: their refusals map onto the API's statuses (broker_error).
#include "amqp/field_table_json.h"
#include "broker/operations.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/history.h"
#include "http/list.h"
#include "http/resources.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

Response list_exchanges(const Call& c, const std::string* only_vhost) {
  const SampleRanges ranges = parse_sample_ranges(c.req);
  if (auto r = range_refusal(ranges, true)) return *r;
  auto walk = std::make_shared<VhostWalk>(visible_vhosts(c, only_vhost));
  return reply_list_sliced(
      c, {{"vhost", "name"}, "name", true}, [walk, ranges, &api = c.api](json& items) {
        return walk->step(
            api.broker(), [](broker::VHost & vh) -> const auto& { return vh.exchanges(); },
            [&](broker::VHost& vh, const std::string& name,
                const std::unique_ptr<broker::Exchange>& x) {
              items.push_back(exchange_json(api, vh, *x));
              if (ranges.any()) api.stats().add_exchange_samples(items.back(), vh, name, ranges);
            });
      });
}

Response put_exchange(const Call& c, broker::VHost& vh, const std::string& name) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  broker::ExchangeDeclare d;
  d.name = name;
  // As exchange.declare's defaults: a direct exchange, every flag false.
  d.type = body->value("type", "direct");
  for (auto [key, flag] :
       {std::pair{"durable", &d.durable}, std::pair{"auto_delete", &d.auto_delete},
        std::pair{"internal", &d.internal}})
    if (auto e = read_flag(*body, key, *flag)) return *e;
  if (auto a = body->find("arguments"); a != body->end() && !a->is_null()) {
    auto t = amqp::json_to_field_table(*a);
    if (!t) return bad_request(t.error().text);
    d.arguments = std::move(*t);
  }
  if (d.type.empty()) return bad_request("invalid exchange type ''");
  // Declared once the body is decoded, as RabbitMQ declares through a channel.
  bool existed = vh.find_exchange(name) != nullptr;
  auto who = principal(c, vh);
  auto r = broker::ops::declare_exchange(who, d);
  if (!r) return broker_error(r.error());
  return empty_response(existed ? 204 : 201);
}

Response delete_exchange(const Call& c, broker::VHost& vh, const std::string& name) {
  if (vh.find_exchange(name) == nullptr) return not_found();
  bool if_unused = false;
  if (const std::string* p = c.req.param("if-unused")) if_unused = *p == "true";
  auto who = principal(c, vh);
  if (auto s = broker::ops::delete_exchange(who, name, if_unused); !s)
    return broker_error(s.error());
  return empty_response(204);
}

Response exchange_bindings(const Call& c, broker::VHost& vh, const std::string& name, bool source) {
  json out = json::array();
  auto add = [&](const broker::Binding& b) { out.push_back(binding_json(vh.name(), b)); };
  if (source) {
    for_each_binding(vh, &name, add);
  } else {
    for_each_binding_to(vh, nullptr, broker::Destination{true, name}, add);
  }
  return reply_list(c.req, std::move(out), {});
}

}  // namespace

Response exchanges_controller(const Call& c) {
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_exchanges(c, nullptr);
  }
  const std::string& vhost = c.seg(1);
  if (auto r = require_vhost(c, vhost, m == "GET")) return *r;
  broker::VHost& vh = *c.broker().find_vhost(vhost);
  if (c.nseg() == 2) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_exchanges(c, &vhost);
  }
  std::string name = exchange_from_path(c.seg(2));
  if (c.nseg() == 3) {
    if (m == "GET") {
      const broker::Exchange* x = vh.find_exchange(name);
      if (x == nullptr) return not_found();
      const SampleRanges ranges = parse_sample_ranges(c.req);
      if (auto r = range_refusal(ranges, false)) return *r;
      json j = exchange_json(c.api, vh, *x);
      if (ranges.any()) c.api.stats().add_exchange_samples(j, vh, name, ranges);
      j["incoming"] = json::array();
      j["outgoing"] = json::array();
      return json_response(j);
    }
    if (m == "PUT") return put_exchange(c, vh, name);
    if (m == "DELETE") return delete_exchange(c, vh, name);
    return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
  }
  if (c.nseg() == 4 && c.seg(3) == "publish") {  // answers a missing exchange itself
    if (m != "POST") return method_not_allowed("POST, OPTIONS");
    return publish_message(c, vh, name);
  }
  if (vh.find_exchange(name) == nullptr) return not_found();
  if (c.nseg() == 5 && c.seg(3) == "bindings" &&
      (c.seg(4) == "source" || c.seg(4) == "destination")) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return exchange_bindings(c, vh, name, c.seg(4) == "source");
  }
  return not_found();
}

}  // namespace pulse::http
