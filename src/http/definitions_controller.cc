// /api/definitions[/{vhost}]: export (GET) and import (POST) in RabbitMQ's definitions format,
// so a RabbitMQ export imports here (users keep their password hashes) and the reverse. The
// import itself is app's (Hooks::import_definitions), the parser pulsed uses at boot. The export
// is the definitions model (snapshots of the live objects) written by definitions/json.h.
#include "broker/names.h"
#include "definitions/json.h"
#include "definitions/snapshot.h"
#include "http/api.h"
#include "http/resources.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

using definitions::snapshot;
using definitions::to_json;

bool exported(const broker::Exchange& x) {
  return !broker::is_builtin_exchange(x.name());
}

// An export of 100k queues is built in slices (queues, then exchanges, then bindings, each in
// (vhost, name) order) and serialised on the worker.
struct Export {
  Export(json head, const VhostWalk::Keep& keep, bool with_vhost)
      : out(std::move(head)),
        with_vhost(with_vhost),
        queues(keep),
        exchanges(keep),
        bindings(keep, false) {}

  enum class Phase { kQueues, kExchanges, kBindings };

  // One item; false when everything is in `out`.
  bool step(broker::Broker& b) {
    auto add = [&](const char* section, json j) {
      if (!with_vhost) j.erase("vhost");
      out[section].push_back(std::move(j));
    };
    switch (phase) {
      case Phase::kQueues:
        if (queues.step(
                b, [](broker::VHost & vh) -> const auto& { return vh.queues(); },
                [&](broker::VHost& vh, const std::string&, const broker::QueuePtr& q) {
                  if (!q->exclusive()) add("queues", to_json(snapshot(vh.name(), *q)));
                }))
          return true;
        phase = Phase::kExchanges;
        return true;
      case Phase::kExchanges:
        if (exchanges.step(
                b, [](broker::VHost & vh) -> const auto& { return vh.exchanges(); },
                [&](broker::VHost& vh, const std::string&,
                    const std::unique_ptr<broker::Exchange>& x) {
                  if (exported(*x)) add("exchanges", to_json(snapshot(vh.name(), *x)));
                }))
          return true;
        phase = Phase::kBindings;
        return true;
      case Phase::kBindings:
        return bindings.step(b, [&](broker::VHost& vh, const broker::Binding& bd) {
          if (!bd.destination.is_exchange) {
            auto q = vh.find_queue(bd.destination.name);
            if (q && q->exclusive()) return;
          }
          add("bindings", to_json(snapshot(vh.name(), bd)));
        });
    }
    return false;
  }

  json out;
  bool with_vhost;
  Phase phase = Phase::kQueues;
  VhostWalk queues, exchanges;
  BindingsWalk bindings;
};

Response export_sliced(const Call& c, json head, const std::string* only_vhost) {
  auto e = std::make_shared<Export>(std::move(head), visible_vhosts(c, only_vhost),
                                    only_vhost == nullptr);
  // Policies and vhost limits are few: they go in at once. RabbitMQ keeps "vhost" in the
  // parameters of a one-vhost export.
  for (const auto& [vname, vh] : c.broker().vhosts()) {
    if (only_vhost != nullptr && vname != *only_vhost) continue;
    if (auto p = definitions::limits_snapshot(*vh)) e->out["parameters"].push_back(to_json(*p));
    for (const auto& [name, p] : vh->policies()) {
      json j = to_json(snapshot(*p));
      if (only_vhost != nullptr) j.erase("vhost");
      e->out["policies"].push_back(std::move(j));
    }
  }
  Scheduler& s = c.api.scheduler();
  run_sliced(
      s, [e, &b = c.broker()] { return e->step(b); },
      [&s, e, respond = c.respond] {
        answer_from_worker(s, respond, [e] { return json_response(e->out); });
      });
  return deferred();
}

Response export_all(const Call& c) {
  json out = {{"rabbit_version", "3.10.8"},   {"rabbitmq_version", "3.10.8"},
              {"product_name", "Pulse"},      {"product_version", "0.1.0"},
              {"users", json::array()},       {"vhosts", json::array()},
              {"permissions", json::array()}, {"topic_permissions", json::array()},
              {"parameters", json::array()},  {"global_parameters", json::array()},
              {"policies", json::array()},    {"queues", json::array()},
              {"exchanges", json::array()},   {"bindings", json::array()}};
  for (const auth::User* u : c.auth().users()) out["users"].push_back(to_json(snapshot(*u)));
  for (const auto& p : c.auth().permissions()) out["permissions"].push_back(to_json(snapshot(p)));
  for (const auto& p : c.auth().topic_permissions())
    out["topic_permissions"].push_back(to_json(snapshot(p)));
  // Every global parameter, internal_cluster_id included, as RabbitMQ 3.10 exports them.
  for (const auto& [name, value] : c.broker().global_parameters().all()) {
    auto v = json::parse(value, nullptr, false);
    out["global_parameters"].push_back(to_json(
        definitions::GlobalParameter{.name = name, .value = v.is_discarded() ? json() : v}));
  }
  // RabbitMQ 3.10.8 writes a vhost as its name only; pulsed adds metadata and, as later
  // RabbitMQ versions, the limits (the "parameters" entry is what an import applies).
  for (const auto& [name, vh] : c.broker().vhosts()) {
    json j = to_json(snapshot(*vh));
    if (vh->limits()) j["limits"] = definitions::limits_json(*vh->limits());
    out["vhosts"].push_back(std::move(j));
  }
  // Pulse's state is node-wide: only here, and only when there is some.
  if (const auto& pulse = c.api.hooks().pulse_definitions) {
    if (auto section = pulse()) out["pulse"] = std::move(*section);
  }
  // Administrators see every vhost (definitions_controller requires the tag).
  return export_sliced(c, std::move(out), nullptr);
}

Response export_one(const Call& c, const std::string& vhost) {
  json out = {
      {"rabbit_version", "3.10.8"}, {"rabbitmq_version", "3.10.8"}, {"product_name", "Pulse"},
      {"product_version", "0.1.0"}, {"parameters", json::array()},  {"policies", json::array()},
      {"queues", json::array()},    {"exchanges", json::array()},   {"bindings", json::array()}};
  return export_sliced(c, std::move(out), &vhost);
}

// The body is parsed on the worker (20 MB take a while), the import runs in slices.
Response import(const Call& c, const std::string* vhost) {
  auto import = c.api.hooks().import_definitions;
  if (!import) return bad_request("definitions import unavailable");
  Scheduler& s = c.api.scheduler();
  std::optional<std::string> only;
  if (vhost != nullptr) only = *vhost;
  s.offload([&s, import, only, req = c.req_ptr, respond = c.respond, &b = c.broker()] {
    auto parsed = parse_json_object(req->body);
    auto doc = parsed ? std::make_shared<json>(std::move(*parsed)) : nullptr;
    s.post([&s, import, only, respond, doc, &b]() mutable {
      // RabbitMQ parses the body before it looks for the vhost.
      if (!doc) {
        respond(bad_request("failed_to_parse_json"));
        return;
      }
      if (only && b.find_vhost(*only) == nullptr) {
        respond(error_response(404, "not_found", "vhost_not_found"));
        return;
      }
      import(s, std::move(doc), only, [respond](Status st) {
        respond(st ? empty_response(204) : bad_request(st.error().text));
    });
  });
});
return deferred();
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
  if (m == "GET") {
    // RabbitMQ 3.10 answers a missing vhost here with 400, not its usual 404.
    if (c.broker().find_vhost(vhost) == nullptr)
      return error_response(400, "bad_request", "vhost_not_found");
    return export_one(c, vhost);
  }
  if (m == "POST") return import(c, &vhost);
  return method_not_allowed("HEAD, GET, POST, OPTIONS");
}

}  // namespace pulse::http
