// pulse-admin-probe --url URL -u USER -p PASSWORD COMMAND [ARGS]: one call of HttpBrokerAdmin,
// its result as one JSON document on stdout, exit 0; a failure as {"error": CODE, "text": ...}
// on stdout, exit 1. A test driver (README.md), not a tool.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "pulse/admin_http/http_broker_admin.h"

using nlohmann::json;
using namespace pulse::admin;

namespace {

int64_t ms_since_epoch(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int fail(const pulse::Error& e) {
  std::cout << json{{"error", e.code}, {"text", e.text}}.dump() << "\n";
  return 1;
}

int print(const json& j) {
  std::cout << j.dump() << "\n";
  return 0;
}

int status(const pulse::Status& s) {
  return s ? print(json{{"ok", true}}) : fail(s.error());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs one BrokerAdmin call over the management HTTP API (a test driver)"};
  HttpAdminSettings settings;
  double timeout_s = 10;
  app.add_option("--url", settings.url, "management API base URL");
  app.add_option("-u,--user", settings.user);
  app.add_option("-p,--password", settings.password);
  app.add_option("--timeout", timeout_s, "seconds per request step");
  app.require_subcommand(1);

  std::string vhost, name, reason, password, user, configure, write, read;
  std::vector<std::string> tags;
  auto* queues = app.add_subcommand("list-queues", "every queue with sizes and bindings");
  auto* del_q = app.add_subcommand("delete-queue", "delete a queue");
  del_q->add_option("vhost", vhost)->required();
  del_q->add_option("name", name)->required();
  del_q->add_option("--reason", reason);
  auto* exchanges = app.add_subcommand("list-exchanges", "every exchange");
  auto* del_x = app.add_subcommand("delete-exchange", "delete an exchange");
  del_x->add_option("vhost", vhost)->required();
  del_x->add_option("name", name)->required();
  auto* conns = app.add_subcommand("list-connections", "every connection");
  auto* close_c = app.add_subcommand("close-connection", "close a connection");
  close_c->add_option("name", name)->required();
  close_c->add_option("--reason", reason);
  auto* users = app.add_subcommand("list-users", "every user");
  auto* put_u = app.add_subcommand("put-user", "create a user or change its password and tags");
  put_u->add_option("name", name)->required();
  put_u->add_option("password", password)->required();
  put_u->add_option("--tag", tags);
  auto* del_u = app.add_subcommand("delete-user", "delete a user");
  del_u->add_option("name", name)->required();
  auto* set_p = app.add_subcommand("set-permissions", "set a user's permissions on a vhost");
  set_p->add_option("vhost", vhost)->required();
  set_p->add_option("user", user)->required();
  set_p->add_option("configure", configure)->required();
  set_p->add_option("write", write)->required();
  set_p->add_option("read", read)->required();
  auto* list_p = app.add_subcommand("list-permissions", "a user's permissions");
  list_p->add_option("user", user)->required();
  CLI11_PARSE(app, argc, argv);

  settings.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  auto made = HttpBrokerAdmin::create(settings);
  if (!made) return fail(made.error());
  BrokerAdmin& admin = **made;

  if (*queues) {
    auto r = admin.list_queues();
    if (!r) return fail(r.error());
    json out = json::array();
    for (const auto& q : *r) {
      json b = json::array();
      for (const auto& x : q.bindings)
        b.push_back({{"source", x.source}, {"routing_key", x.routing_key}});
      out.push_back({{"vhost", q.vhost},
                     {"name", q.name},
                     {"messages", q.messages},
                     {"messages_ready", q.messages_ready},
                     {"messages_unacknowledged", q.messages_unacknowledged},
                     {"consumers", q.consumers},
                     {"durable", q.durable},
                     {"auto_delete", q.auto_delete},
                     {"exclusive", q.exclusive},
                     {"idle_since", q.idle_since ? json(ms_since_epoch(*q.idle_since)) : json()},
                     {"bindings", b}});
    }
    return print(out);
  }
  if (*del_q) return status(admin.delete_queue(vhost, name, reason));
  if (*exchanges) {
    auto r = admin.list_exchanges();
    if (!r) return fail(r.error());
    json out = json::array();
    for (const auto& x : *r) {
      out.push_back({{"vhost", x.vhost},
                     {"name", x.name},
                     {"type", x.type},
                     {"durable", x.durable},
                     {"auto_delete", x.auto_delete},
                     {"internal", x.internal}});
    }
    return print(out);
  }
  if (*del_x) return status(admin.delete_exchange(vhost, name));
  if (*conns) {
    auto r = admin.list_connections();
    if (!r) return fail(r.error());
    json out = json::array();
    for (const auto& c : *r) {
      out.push_back({{"name", c.name},
                     {"user", c.user},
                     {"vhost", c.vhost},
                     {"connected_at", ms_since_epoch(c.connected_at)},
                     {"peer", c.peer}});
    }
    return print(out);
  }
  if (*close_c) return status(admin.close_connection(name, reason));
  if (*users) {
    auto r = admin.list_users();
    if (!r) return fail(r.error());
    json out = json::array();
    for (const auto& u : *r) out.push_back({{"name", u.name}, {"tags", u.tags}});
    return print(out);
  }
  if (*put_u) return status(admin.put_user(name, password, tags));
  if (*del_u) return status(admin.delete_user(name));
  if (*set_p)
    return status(admin.set_permissions(vhost, user, Permissions{configure, write, read}));
  if (*list_p) {
    auto r = admin.list_permissions(user);
    if (!r) return fail(r.error());
    json out = json::array();
    for (const auto& p : *r) {
      out.push_back({{"vhost", p.vhost},
                     {"user", p.user},
                     {"configure", p.permissions.configure},
                     {"write", p.permissions.write},
                     {"read", p.permissions.read}});
    }
    return print(out);
  }
  return 2;
}
