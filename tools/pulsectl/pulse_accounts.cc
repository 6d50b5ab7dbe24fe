// `pulsectl pulse whoami | owners | users | namespaces`: /api/pulse's account resources.
#include <iostream>

#include "exit_codes.h"
#include "mgmt_options.h"
#include "pulse_run.h"
#include "table.h"

namespace pulse::ctl {

namespace pulse_run {

std::string named(const std::string& kind, const std::string& name) {
  return kind + " '" + name + "'";
}

void print_object(const Ctx& c, const json& object, const std::vector<std::string>& keys) {
  if (c.opt.json) {
    std::cout << object.dump(2) << "\n";
    return;
  }
  std::vector<std::string> shown;
  if (keys.empty()) {
    for (const auto& [k, v] : object.items()) shown.push_back(k);
  } else {
    for (const auto& k : keys)
      if (object.contains(k)) shown.push_back(k);
  }
  size_t width = 0;
  for (const auto& k : shown) width = std::max(width, k.size());
  for (const auto& k : shown) {
    std::string line = k + std::string(width - k.size() + 2, ' ') + cell_text(&object[k]);
    line.erase(line.find_last_not_of(' ') + 1);
    std::cout << line << "\n";
  }
}

void report(const Ctx& c, const std::string& line, const json& answer) {
  if (!c.opt.json) {
    std::cout << line << "\n";
  } else if (!answer.is_null()) {
    std::cout << answer.dump(2) << "\n";
  }
}

}  // namespace pulse_run

namespace {

using namespace pulse_run;

const std::vector<std::string> kOwnerKeys = {"email", "display_name", "admin",
                                             "login", "users",        "created"};
const std::vector<std::string> kUserKeys = {"name", "owners", "description", "queue_count",
                                            "created"};
const std::vector<std::string> kClaimKeys = {"namespace",     "expires",   "contact",
                                             "current_user",  "users",     "created",
                                             "last_rotation", "reclaim_at"};

Status show_one(const Ctx& c, const std::string& path, const std::vector<std::string>& keys) {
  auto r = c.api.pulse("GET", path);
  if (!r) return std::move(r).error();
  print_object(c, r->body, keys);
  return ok_status();
}

Status list_all(const Ctx& c, const std::string& path, const char* defaults,
                const PulseCommand& cmd, const std::string& kind) {
  auto r = c.api.pulse("GET", path);
  if (!r) return std::move(r).error();
  if (!r->body.is_array()) return Error{kExitApiError, "GET " + path + " did not return a list"};
  return print_rows(c, r->body, defaults, cmd.columns, kind);
}

// A create that must not quietly change an existing object (PUT would).
Status refuse_existing(const Ctx& c, const std::string& path, const std::string& what,
                       const std::string& hint) {
  if (c.api.pulse("GET", path)) {
    return Error{kExitApiError, what + " already exists (" + hint + ")"};
  }
  return ok_status();  // missing, or not visible: the PUT's answer says what applies
}

Status owners(const Ctx& c, const PulseCommand& cmd) {
  const std::string path = pulse_path({"owners", cmd.name});
  const std::string what = named("owner", cmd.name);
  if (cmd.verb == "list") {
    return list_all(c, pulse_path({"owners"}), "email,display_name,admin,login,users,created", cmd,
                    "owners");
  }
  if (cmd.verb == "show") return show_one(c, path, kOwnerKeys);
  if (cmd.verb == "delete") {
    auto r = c.api.pulse("DELETE", path);
    if (!r) return std::move(r).error();
    report(c, "deleted " + what, nullptr);
    return ok_status();
  }
  json body = json::object();
  if (cmd.display_name) body["display_name"] = *cmd.display_name;
  if (cmd.admin) body["admin"] = *cmd.admin == "true";
  if (cmd.verb == "update") {
    if (body.empty() && !cmd.password) {
      return Error{kExitUsage,
                   "owners update: nothing to change (--display-name, --admin, "
                   "--password)"};
    }
    if (auto r = c.api.pulse("GET", path); !r) return std::move(r).error();
  } else if (auto s = refuse_existing(c, path, what, "owners update changes it"); !s) {
    return s;
  }
  if (cmd.password) body["password"] = tools::read_secret(*cmd.password);
  auto r = c.api.pulse("PUT", path, &body);
  if (!r) return std::move(r).error();
  report(c, (r->status == 201 ? "created " : "updated ") + what, r->body);
  return ok_status();
}

// The bindings as "exchange[routing key]" for a table cell.
json readable_queues(json rows) {
  for (auto& row : rows) {
    json bindings = json::array();
    for (const auto& b : row.value("bindings", json::array()))
      bindings.push_back(b.value("source", "") + "[" + b.value("routing_key", "") + "]");
    row["bindings"] = bindings;
  }
  return rows;
}

Status users(const Ctx& c, const PulseCommand& cmd) {
  const std::string path = pulse_path({"users", cmd.name});
  const std::string what = named("Pulse user", cmd.name);
  if (cmd.verb == "list") {
    return list_all(c, pulse_path({"users"}), "name,owners,description,queue_count,created", cmd,
                    "users");
  }
  if (cmd.verb == "show") return show_one(c, path, kUserKeys);
  if (cmd.verb == "queues") {
    auto r = c.api.pulse("GET", pulse_path({"users", cmd.name, "queues"}));
    if (!r) return std::move(r).error();
    if (c.opt.json && cmd.columns.empty()) return print_rows(c, r->body, "", "all", "queues");
    return print_rows(c, c.opt.json ? r->body : readable_queues(r->body),
                      "vhost,name,messages,messages_ready,messages_unacknowledged,consumers,"
                      "bindings",
                      cmd.columns, "queues");
  }
  if (cmd.verb == "delete") {
    auto r = c.api.pulse("DELETE", path + (cmd.delete_queues ? "?delete_queues=true" : ""));
    if (!r) return std::move(r).error();
    report(c, "deleted " + what + (cmd.delete_queues ? " and its queues" : ""), nullptr);
    return ok_status();
  }
  json body = json::object();
  if (cmd.verb == "set-password") {
    // A PUT would create a missing user: check first.
    if (auto r = c.api.pulse("GET", path); !r) return std::move(r).error();
    body["password"] = tools::read_secret(cmd.password.value_or("-"));
    auto r = c.api.pulse("PUT", path, &body);
    if (!r) return std::move(r).error();
    report(c, "changed the password of " + what + " (its open connections stay)", r->body);
    return ok_status();
  }
  if (auto s = refuse_existing(c, path, what, "users set-password changes its password"); !s) {
    return s;
  }
  body["password"] = tools::read_secret(cmd.password.value_or("-"));
  if (cmd.owner) body["owner"] = *cmd.owner;
  if (cmd.description) body["description"] = *cmd.description;
  auto r = c.api.pulse("PUT", path, &body);
  if (!r) return std::move(r).error();
  report(c, "created " + what, r->body);
  return ok_status();
}

Status namespaces(const Ctx& c, const PulseCommand& cmd) {
  const std::string path = pulse_path({"namespaces", cmd.name});
  const std::string what = named("namespace", cmd.name);
  if (cmd.verb == "list") {
    return list_all(c, pulse_path({"namespaces"}),
                    "namespace,expires,contact,current_user,reclaim_at", cmd, "namespaces");
  }
  if (cmd.verb == "show") return show_one(c, path, kClaimKeys);
  if (cmd.verb == "release") {
    auto r = c.api.pulse("DELETE", path);
    if (!r) return std::move(r).error();
    report(c, "released " + what, nullptr);
    return ok_status();
  }
  auto expires = parse_expires(cmd.expires, std::chrono::system_clock::now());
  if (!expires) return std::move(expires).error();
  json body = {{"expires", *expires}};
  if (cmd.contact) {
    body["contact"] = *cmd.contact;
  } else if (auto existing = c.api.pulse("GET", path)) {
    // The API takes a refresh without a contact as "no contact"; a refresh from the command
    // line that does not mention it means to keep it (--contact '' clears it).
    body["contact"] = existing->body.value("contact", "");
  }
  auto r = c.api.pulse("POST", path, &body);
  if (!r) return std::move(r).error();
  if (!c.opt.json) {
    std::cout << (r->status == 201 ? "claimed " : "refreshed the claim of ") << what << "\n";
  }
  print_object(c, r->body,
               {"namespace", "username", "password", "connection_string", "expires", "reclaim_at"});
  return ok_status();
}

}  // namespace

Status run_pulse(const Ctx& c, const PulseCommand& cmd) {
  if (cmd.noun == "whoami") {
    return show_one(c, pulse_path({"whoami"}),
                    {"name", "tags", "owner", "admin", "display_name", "users"});
  }
  if (cmd.noun == "owners") return owners(c, cmd);
  if (cmd.noun == "users") return users(c, cmd);
  if (cmd.noun == "namespaces") return namespaces(c, cmd);
  if (cmd.noun == "subscriptions") return run_subscriptions(c, cmd);
  return run_guardian(c, cmd);
}

}  // namespace pulse::ctl
