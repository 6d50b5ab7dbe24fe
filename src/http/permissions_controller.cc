// /api/permissions[/{vhost}/{user}] and /api/topic-permissions[/{vhost}/{user}].
// Administrators only.
#include <array>

#include "http/api.h"
#include "http/decode.h"
#include "http/list.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

// RabbitMQ's "[{key_missing,read}]" for an absent field.
std::optional<std::string> string_field(const json& body, const char* key, Response& err) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) {
    err = bad_request(std::string("[{key_missing,") + key + "}]");
    return std::nullopt;
  }
  return it->get<std::string>();
}

// The prologue of both PUTs: the body must parse, the user and the vhost exist, then the three
// fields (in `keys`' order, RabbitMQ's order of complaints) be strings.
std::optional<std::array<std::string, 3>> put_fields(const Call& c, const std::string& vhost,
                                                     const std::string& user,
                                                     const std::array<const char*, 3>& keys,
                                                     Response& err) {
  auto body = parse_body(c, err);
  if (!body) return std::nullopt;
  if (c.auth().find_user(user) == nullptr || c.broker().find_vhost(vhost) == nullptr) {
    err = bad_request("vhost_or_user_not_found");
    return std::nullopt;
  }
  if (auto e = require_keys(*body, {keys[0], keys[1], keys[2]})) {
    err = std::move(*e);
    return std::nullopt;
  }
  std::array<std::string, 3> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto v = string_field(*body, keys[i], err);
    if (!v) return std::nullopt;
    out[i] = std::move(*v);
  }
  return out;
}

Response regex_error(const Error& e) {
  return json_response({{"error", "bad_request"}, {"reason", e.text}}, 400);
}

Response permissions(const Call& c) {
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    json out = json::array();
    for (const auto& p : c.auth().permissions()) out.push_back(permission_json(p));
    return reply_list(c.req, std::move(out), {{"vhost", "user"}});
  }
  if (c.nseg() != 3) return not_found();
  const std::string& vhost = c.seg(1);
  const std::string& user = c.seg(2);
  if (m == "GET") {
    for (const auto& p : c.auth().permissions())
      if (p.user == user && p.vhost == vhost) return json_response(permission_json(p));
    return not_found();
  }
  if (m == "PUT") {
    Response err;
    auto f = put_fields(c, vhost, user, {"configure", "write", "read"}, err);
    if (!f) return err;
    const auto& [conf, write, read] = *f;
    bool existed = c.auth().has_vhost_access(user, vhost);
    if (auto s = c.auth().set_permissions(user, vhost, conf, write, read); !s)
      return regex_error(s.error());
    if (c.api.hooks().permission_changed) c.api.hooks().permission_changed(user, vhost);
    return empty_response(existed ? 204 : 201);
  }
  if (m == "DELETE") {
    if (!c.auth().has_vhost_access(user, vhost)) return not_found();
    c.auth().clear_permissions(user, vhost);
    if (c.api.hooks().permission_changed) c.api.hooks().permission_changed(user, vhost);
    return empty_response(204);
  }
  return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
}

Response topic_permissions(const Call& c) {
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    json out = json::array();
    for (const auto& p : c.auth().topic_permissions()) out.push_back(topic_permission_json(p));
    return reply_list(c.req, std::move(out), {{"vhost", "user"}});
  }
  if (c.nseg() != 3) return not_found();
  const std::string& vhost = c.seg(1);
  const std::string& user = c.seg(2);
  std::vector<auth::TopicPermissionEntry> mine;
  for (const auto& p : c.auth().topic_permissions())
    if (p.user == user && p.vhost == vhost) mine.push_back(p);
  if (m == "GET") {
    if (mine.empty()) return not_found();
    json out = json::array();
    for (const auto& p : mine) out.push_back(topic_permission_json(p));
    return json_response(out);
  }
  if (m == "PUT") {
    Response err;
    auto f = put_fields(c, vhost, user, {"exchange", "write", "read"}, err);
    if (!f) return err;
    const auto& [exchange, write, read] = *f;
    bool existed = false;
    for (const auto& p : mine) existed = existed || p.exchange == exchange;
    if (auto s = c.auth().set_topic_permissions(user, vhost, exchange, write, read); !s)
      return regex_error(s.error());
    if (c.api.hooks().topic_permission_changed)
      c.api.hooks().topic_permission_changed(user, vhost, exchange);
    return empty_response(existed ? 204 : 201);
  }
  if (m == "DELETE") {
    if (mine.empty()) return not_found();
    for (const auto& p : mine) {
      c.auth().clear_topic_permissions(user, vhost, p.exchange);
      if (c.api.hooks().topic_permission_changed)
        c.api.hooks().topic_permission_changed(user, vhost, p.exchange);
    }
    return empty_response(204);
  }
  return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
}

}  // namespace

Response permissions_controller(const Call& c) {
  if (auto r = require_admin(c)) return *r;
  return c.seg(0) == "permissions" ? permissions(c) : topic_permissions(c);
}

}  // namespace pulse::http
