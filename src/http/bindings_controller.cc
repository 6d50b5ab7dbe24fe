// /api/bindings[/{vhost}[/e/{source}/q|e/{destination}[/{properties_key}]]].
#include "amqp/field_table_json.h"
#include "base/url.h"
#include "broker/operations.h"
#include "http/api.h"
#include "http/list.h"
#include "http/resources.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

Response create_binding(const Call& c, broker::VHost& vh, const std::string& source,
                        const broker::Destination& dest) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  std::string key = body->value("routing_key", "");
  amqp::FieldTable args;
  if (auto a = body->find("arguments"); a != body->end() && !a->is_null()) {
    auto t = amqp::json_to_field_table(*a);
    if (!t) return bad_request(t.error().text);
    args = std::move(*t);
  }
  auto who = principal(c, vh);
  if (auto s = broker::ops::bind(who, source, dest, key, args); !s) {
    if (s.error().code == 404) {
      std::string_view text = s.error().text;
      if (auto p = text.find(" - "); p != std::string_view::npos) text = text.substr(p + 3);
      return error_response(404, "not_found", text);
    }
    return broker_error(s.error());
  }
  broker::Binding b{source, dest, key, args};
  Response r = empty_response(201);
  // Relative to the posted path, as rabbit_web_dispatch_util:relativise makes it: the
  // destination's segment as the client sent it, then the key quoted once more.
  std::string_view path = c.req.path;
  std::string_view dest_segment = path.substr(path.rfind('/') + 1);
  r.headers.emplace_back("location",
                         std::string(dest_segment) + "/" + percent_encode(properties_key(b)));
  return r;
}

Response list_bindings(const Call& c, const std::string* only_vhost) {
  auto walk = std::make_shared<BindingsWalk>(visible_vhosts(c, only_vhost), true);
  return reply_list_sliced(c, {}, [walk, &b = c.broker()](json& items) {
    return walk->step(b, [&](broker::VHost& vh, const broker::Binding& bd) {
      items.push_back(binding_json(vh.name(), bd));
    });
  });
}

}  // namespace

Response bindings_controller(const Call& c) {
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_bindings(c, nullptr);
  }
  const std::string& vhost = c.seg(1);
  if (auto r = require_vhost(c, vhost, m == "GET")) return *r;
  broker::VHost& vh = *c.broker().find_vhost(vhost);
  if (c.nseg() == 2) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    return list_bindings(c, &vhost);
  }
  if ((c.nseg() != 6 && c.nseg() != 7) || c.seg(2) != "e" || (c.seg(4) != "q" && c.seg(4) != "e"))
    return not_found();
  std::string source = exchange_from_path(c.seg(3));
  broker::Destination dest{c.seg(4) == "e",
                           c.seg(4) == "e" ? exchange_from_path(c.seg(5)) : c.seg(5)};
  if (c.nseg() == 6) {
    if (m == "POST") return create_binding(c, vh, source, dest);
    if (m != "GET") return method_not_allowed("HEAD, GET, POST, OPTIONS");
    if (!vh.find_exchange(source) ||
        (dest.is_exchange ? !vh.find_exchange(dest.name) : !vh.find_queue(dest.name)))
      return not_found();
    json out = json::array();
    for_each_binding_to(vh, &source, dest,
                        [&](const broker::Binding& b) { out.push_back(binding_json(vhost, b)); });
    return reply_list(c.req, std::move(out), {});
  }
  const std::string& props = c.seg(6);
  std::optional<broker::Binding> found;
  for_each_binding_to(vh, &source, dest, [&](const broker::Binding& b) {
    if (properties_key(b) == props) found = b;
  });
  if (m == "GET") return found ? json_response(binding_json(vhost, *found)) : not_found();
  if (m == "DELETE") {
    if (!found) return not_found();
    auto who = principal(c, vh);
    if (auto s = broker::ops::unbind(who, source, dest, found->routing_key, found->arguments); !s)
      return broker_error(s.error());
    return empty_response(204);
  }
  return method_not_allowed("HEAD, GET, DELETE, OPTIONS");
}

}  // namespace pulse::http
