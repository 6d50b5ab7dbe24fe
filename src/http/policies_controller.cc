// /api/policies[/{vhost}[/{name}]]: policymakers (and administrators) only; applied to the
// vhost's queues and exchanges at once by the broker.
#include "amqp/field_table_json.h"
#include "broker/policy.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/list.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

// Answers once the policy change reached every queue and exchange it concerns, applying it in
// slices (100k queues would stall the loop for a quarter of a second otherwise).
Response after(const Call& c, std::unique_ptr<broker::PolicyReapply> reapply, Response r) {
  if (!reapply) return r;
  std::shared_ptr<broker::PolicyReapply> job = std::move(reapply);
  run_sliced(
      c.api.scheduler(), [job] { return job->step(); },
      [respond = c.respond, r = std::make_shared<Response>(std::move(r))] {
        respond(std::move(*r));
      });
  return deferred();
}

Response put_policy(const Call& c, broker::VHost& vh, const std::string& name) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  broker::PolicySpec spec;
  spec.name = name;
  if (auto e = require_keys(*body, {"pattern", "definition"})) return *e;
  const json& pattern = (*body)["pattern"];
  if (!pattern.is_string())
    return bad_request("Validation failed\n\npattern should be a binary but was " + pattern.dump() +
                       "\n");
  spec.pattern = pattern.get<std::string>();
  const json& def = (*body)["definition"];
  if (!def.is_object()) return bad_request("definition must be a JSON object");
  auto table = amqp::json_to_field_table(def);
  if (!table) return bad_request(table.error().text);
  spec.definition = std::move(*table);
  if (auto p = body->find("priority"); p != body->end()) {
    // A JSON number only, as rabbit_parameter_validation:number/2 (rabbitmqadmin sends one).
    if (!p->is_number()) {
      std::string term = p->is_string() ? "<<" + p->dump() + ">>" : p->dump();
      return bad_request("Validation failed\n\npriority should be a number, actually was " + term +
                         "\n");
    }
    spec.priority =
        p->is_number_integer() ? p->get<int64_t>() : static_cast<int64_t>(p->get<double>());
  }
  if (auto a = body->find("apply-to"); a != body->end() && a->is_string())
    spec.apply_to = a->get<std::string>();
  bool existed = vh.find_policy(name) != nullptr;
  std::unique_ptr<broker::PolicyReapply> reapply;
  if (auto s = vh.set_policy(std::move(spec), &reapply); !s)
    return bad_request(broker::validation_failed_text(s.error()));
  return after(c, std::move(reapply), empty_response(existed ? 204 : 201));
}

json list_policies(const Call& c, const std::string* only_vhost) {
  json out = json::array();
  for (const auto& [vname, vh] : c.broker().vhosts()) {
    if (only_vhost ? vname != *only_vhost : !c.auth().has_vhost_access(c.user.name, vname))
      continue;
    for (const auto& [name, p] : vh->policies()) out.push_back(policy_json(*p));
  }
  return out;
}

}  // namespace

Response policies_controller(const Call& c) {
  // Listings are open to every management user (filtered by vhost access); single policies
  // need the policymaker tag, with RabbitMQ's "object" wording.
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return reply_list(c.req, list_policies(c, nullptr), {{"vhost", "name"}});
  }
  const std::string& vhost = c.seg(1);
  if (auto r = require_vhost(c, vhost, m == "GET")) return *r;
  broker::VHost& vh = *c.broker().find_vhost(vhost);
  if (c.nseg() == 2) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return reply_list(c.req, list_policies(c, &vhost), {{"vhost", "name"}});
  }
  if (c.nseg() != 3) return not_found();
  if (!is_policymaker(c.user)) return not_authorised("User not authorised to access object");
  const std::string& name = c.seg(2);
  if (m == "GET") {
    auto p = vh.find_policy(name);
    return p ? json_response(policy_json(*p)) : not_found();
  }
  if (m == "PUT") return put_policy(c, vh, name);
  if (m == "DELETE") {
    std::unique_ptr<broker::PolicyReapply> reapply;
    if (!vh.clear_policy(name, &reapply)) return not_found();
    return after(c, std::move(reapply), empty_response(204));
  }
  return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
}

}  // namespace pulse::http
