// /api/definitions[/{vhost}]: export (GET) and import (POST) in RabbitMQ's definitions format,
// so a RabbitMQ export imports here (users keep their password hashes) and the reverse. The
// import itself is app's (Hooks::import_definitions), the parser pulsed uses at boot.
#include "amqp/field_table_json.h"
#include "http/api.h"
#include "http/resources.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

bool exported(const broker::Exchange& x) {
  return !x.name().empty() && !x.name().starts_with("amq.");
}

void export_vhost(broker::VHost& vh, bool with_vhost, json& out) {
  auto tag = [&](json j) {
    if (!with_vhost) j.erase("vhost");
    return j;
  };
  for (const auto& [name, p] : vh.policies()) out["policies"].push_back(tag(policy_json(*p)));
  for (const auto& [name, q] : vh.queues()) {
    if (q->exclusive()) continue;
    out["queues"].push_back(tag({{"name", q->name()},
                                 {"vhost", vh.name()},
                                 {"durable", q->durable()},
                                 {"auto_delete", q->auto_delete()},
                                 {"arguments", amqp::field_table_to_json(q->arguments())}}));
  }
  for (const auto& [name, x] : vh.exchanges()) {
    if (!exported(*x)) continue;
    out["exchanges"].push_back(tag({{"name", x->name()},
                                    {"vhost", vh.name()},
                                    {"type", broker::exchange_type_name(x->type())},
                                    {"durable", x->durable()},
                                    {"auto_delete", x->auto_delete()},
                                    {"internal", x->internal()},
                                    {"arguments", amqp::field_table_to_json(x->arguments())}}));
  }
  for (const auto& [name, x] : vh.exchanges()) {
    if (name.empty()) continue;
    for (const auto& b : x->bindings()) {
      if (!b.destination.is_exchange) {
        auto q = vh.find_queue(b.destination.name);
        if (q && q->exclusive()) continue;
      }
      json j = binding_json(vh.name(), b);
      j.erase("properties_key");
      out["bindings"].push_back(tag(std::move(j)));
    }
  }
}

Response export_all(const Call& c) {
  json out = {{"rabbit_version", "3.10.8"},   {"rabbitmq_version", "3.10.8"},
              {"product_name", "Pulse"},      {"product_version", "0.1.0"},
              {"users", json::array()},       {"vhosts", json::array()},
              {"permissions", json::array()}, {"topic_permissions", json::array()},
              {"parameters", json::array()},  {"global_parameters", json::array()},
              {"policies", json::array()},    {"queues", json::array()},
              {"exchanges", json::array()},   {"bindings", json::array()}};
  for (const auth::User* u : c.auth().users()) out["users"].push_back(user_json(*u));
  for (const auto& p : c.auth().permissions()) out["permissions"].push_back(permission_json(p));
  for (const auto& p : c.auth().topic_permissions())
    out["topic_permissions"].push_back(topic_permission_json(p));
  for (const auto& [name, vh] : c.broker().vhosts()) {
    out["vhosts"].push_back({{"name", name},
                             {"limits", json::array()},
                             {"metadata", {{"description", ""}, {"tags", json::array()}}}});
    export_vhost(*vh, true, out);
  }
  return json_response(out);
}

Response export_one(broker::VHost& vh) {
  json out = {
      {"rabbit_version", "3.10.8"}, {"rabbitmq_version", "3.10.8"}, {"product_name", "Pulse"},
      {"product_version", "0.1.0"}, {"parameters", json::array()},  {"policies", json::array()},
      {"queues", json::array()},    {"exchanges", json::array()},   {"bindings", json::array()}};
  export_vhost(vh, false, out);
  return json_response(out);
}

Response import(const Call& c, const std::string* vhost) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  if (!c.api.hooks().import_definitions) return bad_request("definitions import unavailable");
  if (auto s = c.api.hooks().import_definitions(*body, vhost); !s)
    return bad_request(s.error().text);
  return empty_response(204);
}

}  // namespace

Response definitions_controller(const Call& c) {
  if (auto r = require_admin(c)) return *r;
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m == "GET") return export_all(c);
    if (m == "POST") return import(c, nullptr);
    return method_not_allowed("HEAD, GET, POST, OPTIONS");
  }
  if (c.nseg() != 2) return not_found();
  const std::string& vhost = c.seg(1);
  if (c.broker().find_vhost(vhost) == nullptr) return not_found();
  if (m == "GET") return export_one(*c.broker().find_vhost(vhost));
  if (m == "POST") return import(c, &vhost);
  return method_not_allowed("HEAD, GET, POST, OPTIONS");
}

}  // namespace pulse::http
