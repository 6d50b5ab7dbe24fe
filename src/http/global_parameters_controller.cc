// /api/cluster-name and /api/global-parameters[/{name}]: the node's global runtime parameters,
// kept by the broker (broker/global_parameters.h), which persists them through its definitions
// observer. cluster_name is one of them: setting either path changes the same value.
#include "broker/global_parameters.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/list.h"

namespace pulse::http {
namespace {

using broker::GlobalParameters;
using nlohmann::json;

// rabbit_mgmt_wm_cluster_name: any management user reads, administrators set.
Response cluster_name(const Call& c) {
  if (c.nseg() != 1) return not_found();
  const std::string& m = c.method();
  if (m == "GET") return json_response({{"name", c.broker().global_parameters().cluster_name()}});
  if (m != "PUT") return method_not_allowed("HEAD, GET, PUT, OPTIONS");
  if (auto r = require_admin(c)) return *r;
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  if (auto e = require_keys(*body, {"name"})) return *e;
  auto name = body->find("name");
  // RabbitMQ 3.10 stores a non-string name and then fails with 500; refuse it instead.
  if (!name->is_string()) return bad_request("cluster name must be a string");
  if (auto r = c.broker().set_global_parameter(GlobalParameters::kClusterName, name->dump()); !r)
    return broker_error(r.error());
  return empty_response(204);
}

json parameter_json(const std::string& name, const std::string& value_json) {
  auto value = json::parse(value_json, nullptr, false);
  if (value.is_discarded()) value = value_json;  // the broker validated it: cannot happen
  return {{"name", name}, {"value", std::move(value)}};
}

// rabbit_mgmt_wm_global_parameter(s): policymakers and administrators only, for every path
// and method (a monitoring user may not even list them).
Response global_parameters(const Call& c) {
  if (c.nseg() > 2) return not_found();
  const std::string& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  } else if (m != "GET" && m != "PUT" && m != "DELETE") {
    return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
  }
  if (!is_policymaker(c.user)) return not_authorised("User not authorised to access object");
  const GlobalParameters& params = c.broker().global_parameters();
  if (c.nseg() == 1) {
    json items = json::array();
    for (const auto& [name, value] : params.all()) items.push_back(parameter_json(name, value));
    return reply_list(c.req, std::move(items), {{"name"}});
  }
  const std::string& name = c.seg(1);
  if (m == "GET") {
    const std::string* value = params.find(name);
    if (value == nullptr) return not_found();
    return json_response(parameter_json(name, *value));
  }
  if (m == "DELETE") {
    if (!c.broker().clear_global_parameter(name)) return not_found();
    return empty_response(204);
  }
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  // A "name" in the body is ignored: the path names the parameter, as in RabbitMQ.
  if (auto e = require_keys(*body, {"value"})) return *e;
  auto value = body->find("value");
  auto created = c.broker().set_global_parameter(name, value->dump());
  if (!created) return broker_error(created.error());
  return empty_response(*created ? 201 : 204);
}

}  // namespace

Response global_parameters_controller(const Call& c) {
  if (c.seg(0) == "cluster-name") return cluster_name(c);
  return global_parameters(c);
}

}  // namespace pulse::http
