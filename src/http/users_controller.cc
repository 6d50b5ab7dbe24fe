// /api/users[/{name}[/permissions|/topic-permissions]], /api/users/bulk-delete,
// /api/users/without-permissions. Administrators only, as in RabbitMQ. Changes are persisted
// through Hooks after the AuthStore accepted them.
#include "auth/password.h"
#include "http/api.h"
#include "http/decode.h"
#include "http/list.h"
#include "http/views.h"

namespace pulse::http {
namespace {

using nlohmann::json;

// "a,b" or ["a","b"], as RabbitMQ accepts both.
std::optional<std::vector<std::string>> parse_tags(const json& j) {
  std::vector<std::string> out;
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    size_t pos = 0;
    while (pos <= s.size()) {
      size_t next = s.find(',', pos);
      if (next == std::string::npos) next = s.size();
      std::string t = s.substr(pos, next - pos);
      while (!t.empty() && t.front() == ' ') t.erase(t.begin());
      while (!t.empty() && t.back() == ' ') t.pop_back();
      if (!t.empty()) out.push_back(t);
      pos = next + 1;
    }
    return out;
  }
  if (j.is_array()) {
    for (const auto& e : j) {
      if (!e.is_string()) return std::nullopt;
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  return std::nullopt;
}

void user_changed(const Call& c, const std::string& name) {
  if (c.api.hooks().user_changed) c.api.hooks().user_changed(name);
}

Response put_user(const Call& c, const std::string& name) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  auto tags_it = body->find("tags");
  if (tags_it == body->end()) return bad_request("tags_not_present");
  auto tags = parse_tags(*tags_it);
  if (!tags) return bad_request("tags must be a string or a list of strings");
  bool existed = c.auth().find_user(name) != nullptr;
  Status s;
  if (auto p = body->find("password"); p != body->end() && p->is_string()) {
    s = c.auth().put_user_hash(name, auth::hash_password(p->get<std::string>()), auth::kSha256Name,
                               *tags);
  } else if (auto h = body->find("password_hash"); h != body->end() && h->is_string()) {
    std::string alg = std::string(auth::kSha256Name);
    if (auto a = body->find("hashing_algorithm"); a != body->end() && a->is_string())
      alg = a->get<std::string>();
    if (!auth::base64_decode(h->get<std::string>())) return bad_request_term("not_base64", *h);
    s = c.auth().put_user_hash(name, h->get<std::string>(), alg, *tags);
  } else if (existed) {
    // Tags only: the password stays.
    s = c.auth().set_tags(name, *tags);
  } else {
    s = c.auth().put_user_hash(name, "", auth::kSha256Name, *tags);
  }
  if (!s) return bad_request(s.error().text);
  user_changed(c, name);
  return empty_response(existed ? 204 : 201);
}

Response bulk_delete(const Call& c) {
  if (c.method() != "POST") return method_not_allowed("POST, OPTIONS");
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  if (auto e = require_keys(*body, {"users"})) return *e;
  auto users = body->find("users");
  if (!users->is_array()) return bad_request("users must be a list");
  for (const auto& u : *users) {
    if (!u.is_string()) return bad_request("users must be a list of strings");
    std::string name = u.get<std::string>();
    if (c.auth().find_user(name) == nullptr)
      return json_response(
          {{"error", "bad_request"}, {"reason", json::array({"no_such_user", name})}}, 400);
    if (!c.auth().delete_user(name)) continue;
    user_changed(c, name);
  }
  return empty_response(204);
}

}  // namespace

Response users_controller(const Call& c) {
  if (auto r = require_admin(c)) return *r;
  const auto& m = c.method();
  if (c.nseg() == 1) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    json out = json::array();
    for (const auth::User* u : c.auth().users()) out.push_back(user_json(*u));
    return reply_list(c.req, std::move(out), {{"name"}});
  }
  const std::string& name = c.seg(1);
  if (c.nseg() == 2 && name == "bulk-delete") return bulk_delete(c);
  if (c.nseg() == 2 && name == "without-permissions") {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    json out = json::array();
    auto perms = c.auth().permissions();
    for (const auth::User* u : c.auth().users()) {
      bool any = false;
      for (const auto& p : perms) any = any || p.user == u->name;
      if (!any) out.push_back(user_json(*u));
    }
    return reply_list(c.req, std::move(out), {{"name"}});
  }
  if (c.nseg() == 2) {
    if (m == "GET") {
      const auth::User* u = c.auth().find_user(name);
      return u ? json_response(user_json(*u)) : not_found();
    }
    if (m == "PUT") return put_user(c, name);
    if (m == "DELETE") {
      if (!c.auth().delete_user(name)) return not_found();
      user_changed(c, name);
      return empty_response(204);
    }
    return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
  }
  if (c.nseg() == 3 && (c.seg(2) == "permissions" || c.seg(2) == "topic-permissions")) {
    if (m != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
    if (c.auth().find_user(name) == nullptr) return not_found();
    json out = json::array();
    if (c.seg(2) == "permissions") {
      for (const auto& p : c.auth().permissions())
        if (p.user == name) out.push_back(permission_json(p));
    } else {
      for (const auto& p : c.auth().topic_permissions())
        if (p.user == name) out.push_back(topic_permission_json(p));
    }
    return reply_list(c.req, std::move(out), {{"vhost", "user"}});
  }
  return not_found();
}

}  // namespace pulse::http
