// Users, vhosts, permissions, policies and the cluster name.
#include "commands.h"
#include "exit_codes.h"

namespace pulse::ctl {

namespace {

std::string quoted(const std::string& kind, const std::string& name) {
  return kind + " '" + name + "'";
}

}  // namespace

Status add_user(const Ctx& c, const std::string& name, const std::string& password,
                const std::string& password_hash, const std::string& tags) {
  // RabbitMQ 3.10 takes tags as a comma-separated string (or a list).
  json body = {{"tags", tags}};
  if (!password_hash.empty()) {
    body["password_hash"] = password_hash;
  } else {
    body["password"] = password;
  }
  auto r = c.api.put("/api/users/" + seg(name), body, Subject{quoted("user", name), {}});
  if (!r) return std::move(r).error();
  c.say((*r == 201 ? "added " : "updated ") + quoted("user", name));
  return ok_status();
}

Status delete_user(const Ctx& c, const std::string& name) {
  auto r = c.api.del("/api/users/" + seg(name), Subject{quoted("user", name), {}});
  if (!r) return std::move(r).error();
  c.say("deleted " + quoted("user", name));
  return ok_status();
}

Status add_vhost(const Ctx& c, const std::string& name, const std::string& description) {
  json body = json::object();
  if (!description.empty()) body["description"] = description;
  auto r = c.api.put("/api/vhosts/" + seg(name), body, Subject{quoted("vhost", name), {}});
  if (!r) return std::move(r).error();
  c.say((*r == 201 ? "added " : "already exists: ") + quoted("vhost", name));
  return ok_status();
}

Status delete_vhost(const Ctx& c, const std::string& name) {
  auto r = c.api.del("/api/vhosts/" + seg(name), Subject{quoted("vhost", name), {}});
  if (!r) return std::move(r).error();
  c.say("deleted " + quoted("vhost", name));
  return ok_status();
}

Status set_permissions(const Ctx& c, const std::string& user, const std::string& configure,
                       const std::string& write, const std::string& read) {
  json body = {{"configure", configure}, {"write", write}, {"read", read}};
  auto r = c.api.put("/api/permissions/" + seg(c.opt.vhost) + "/" + seg(user), body,
                     Subject{quoted("user", user), c.opt.vhost});
  if (!r) {
    // RabbitMQ answers 400 vhost_or_user_not_found; name the one that is missing.
    if (r.error().text.rfind("vhost_or_user_not_found", 0) != 0) return std::move(r).error();
    auto vh =
        c.api.get("/api/vhosts/" + seg(c.opt.vhost), Subject{quoted("vhost", c.opt.vhost), {}});
    if (!vh) return std::move(vh).error();
    auto u = c.api.get("/api/users/" + seg(user), Subject{quoted("user", user), {}});
    if (!u) return std::move(u).error();
    return std::move(r).error();
  }
  c.say("set permissions of " + in_vhost(quoted("user", user), c.opt.vhost) + ": configure '" +
        configure + "' write '" + write + "' read '" + read + "'");
  return ok_status();
}

Status clear_permissions(const Ctx& c, const std::string& user) {
  auto r = c.api.del("/api/permissions/" + seg(c.opt.vhost) + "/" + seg(user),
                     Subject{"permissions of " + quoted("user", user), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say("cleared permissions of " + in_vhost(quoted("user", user), c.opt.vhost));
  return ok_status();
}

Status set_policy(const Ctx& c, const PolicySpec& p) {
  json definition = json::parse(p.definition, nullptr, false);
  if (!definition.is_object()) {
    return Error{kExitUsage, "--definition: expected a JSON object, e.g. '{\"max-length\": 10}'"};
  }
  json body = {{"pattern", p.pattern},
               {"definition", definition},
               {"priority", p.priority},
               {"apply-to", p.apply_to}};
  auto r = c.api.put("/api/policies/" + seg(c.opt.vhost) + "/" + seg(p.name), body,
                     Subject{quoted("policy", p.name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say("set " + in_vhost(quoted("policy", p.name), c.opt.vhost));
  return ok_status();
}

Status clear_policy(const Ctx& c, const std::string& name) {
  auto r = c.api.del("/api/policies/" + seg(c.opt.vhost) + "/" + seg(name),
                     Subject{quoted("policy", name), c.opt.vhost});
  if (!r) return std::move(r).error();
  c.say("cleared " + in_vhost(quoted("policy", name), c.opt.vhost));
  return ok_status();
}

Status set_cluster_name(const Ctx& c, const std::string& name) {
  auto r = c.api.put("/api/cluster-name", json{{"name", name}}, Subject{"cluster name", {}});
  if (!r) return std::move(r).error();
  c.say("set cluster name to '" + name + "'");
  return ok_status();
}

}  // namespace pulse::ctl
