// pulse-accounts-probe --url URL -u USER -p PASSWORD --state FILE [--set KEY=VALUE]... COMMAND:
// one AccountService call over HttpBrokerAdmin, its state in FILE (JsonFileAccountStore); the
// result as one JSON document on stdout, exit 0; a failure as {"error": CODE, "text": ...},
// exit 1. `--now` (seconds since the epoch) stands for the clock, so a test can step past a
// rotation or an expiry. A test driver, not a tool.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "pulse/accounts/account_service.h"
#include "pulse/admin_http/http_broker_admin.h"

using nlohmann::json;
using namespace pulse::accounts;

namespace {

double seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

TimePoint at(double secs) {
  return TimePoint(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs)));
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

int report(const SweepReport& r) {
  json errors = json::array();
  for (const auto& e : r.errors) errors.push_back({{"error", e.code}, {"text", e.text}});
  return print(json{{"done", r.done}, {"errors", errors}});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs one AccountService call over the management HTTP API (a test driver)"};
  pulse::admin::HttpAdminSettings admin_settings;
  std::string state_path;
  std::vector<std::string> sets;
  double now_s = seconds(Clock::now());
  app.add_option("--url", admin_settings.url, "management API base URL");
  app.add_option("-u,--user", admin_settings.user);
  app.add_option("-p,--password", admin_settings.password);
  app.add_option("--state", state_path, "the JSON file holding the account state")->required();
  app.add_option("--set", sets, "KEY=VALUE: a pulse.accounts.* setting");
  app.add_option("--now", now_s, "the clock, in seconds since the epoch");
  app.require_subcommand(1);

  std::string owner, name, password, description, ns, contact;
  bool admin_flag = false, delete_queues = false;
  double expires_in = 3600;
  auto* create_owner = app.add_subcommand("create-owner", "add an owner");
  create_owner->add_option("email", owner)->required();
  create_owner->add_option("--name", description);
  create_owner->add_flag("--admin", admin_flag);
  auto* create_user = app.add_subcommand("create-user", "create a Pulse user for an owner");
  create_user->add_option("owner", owner)->required();
  create_user->add_option("name", name)->required();
  create_user->add_option("password", password)->required();
  create_user->add_option("--description", description);
  auto* change_pw = app.add_subcommand("change-password", "a Pulse user's new password");
  change_pw->add_option("owner", owner)->required();
  change_pw->add_option("name", name)->required();
  change_pw->add_option("password", password)->required();
  auto* delete_user = app.add_subcommand("delete-user", "delete a Pulse user");
  delete_user->add_option("owner", owner)->required();
  delete_user->add_option("name", name)->required();
  delete_user->add_flag("--delete-queues", delete_queues);
  auto* users_of = app.add_subcommand("users-of", "an owner's Pulse users and their queues");
  users_of->add_option("owner", owner)->required();
  auto* claim = app.add_subcommand("claim", "claim or refresh a namespace");
  claim->add_option("namespace", ns)->required();
  claim->add_option("--expires-in", expires_in, "seconds from --now");
  claim->add_option("--contact", contact);
  auto* rotate = app.add_subcommand("rotate", "rotate the credentials of claims due");
  auto* expire = app.add_subcommand("expire", "remove the claims past their expiry");
  auto* claims = app.add_subcommand("claims", "every claim (passwords left out)");
  CLI11_PARSE(app, argc, argv);

  AccountSettings settings;
  for (const auto& kv : sets) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return fail(pulse::Error{400, "--set wants KEY=VALUE: " + kv});
    if (auto s = apply_setting(settings, kv.substr(0, eq), kv.substr(eq + 1)); !s)
      return fail(s.error());
  }
  admin_settings.timeout = std::chrono::milliseconds(10000);
  auto made = pulse::admin::HttpBrokerAdmin::create(admin_settings);
  if (!made) return fail(made.error());
  JsonFileAccountStore store(state_path);
  AccountService service(**made, store, settings);
  if (auto s = service.load(); !s) return fail(s.error());
  const TimePoint now = at(now_s);

  if (*create_owner) {
    auto r = service.create_owner(owner, description, admin_flag, now);
    return r ? print(json{{"email", r->email}, {"admin", r->admin}}) : fail(r.error());
  }
  if (*create_user) {
    auto r = service.create_user(owner, name, password, description, now);
    return r ? print(json{{"name", r->name}, {"owners", r->owners}}) : fail(r.error());
  }
  if (*change_pw) return status(service.change_password(owner, name, password));
  if (*delete_user) return status(service.delete_user(owner, name, delete_queues));
  if (*users_of) {
    auto r = service.users_of(owner);
    if (!r) return fail(r.error());
    json out = json::array();
    for (const auto& uq : *r) {
      json qs = json::array();
      for (const auto& q : uq.queues) qs.push_back({{"vhost", q.vhost}, {"name", q.name}});
      out.push_back({{"name", uq.user.name}, {"owners", uq.user.owners}, {"queues", qs}});
    }
    return print(out);
  }
  if (*claim) {
    auto r = service.claim(ns,
                           now + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(expires_in)),
                           contact, now);
    if (!r) return fail(r.error());
    return print(json{{"namespace", r->ns},
                      {"username", r->username},
                      {"password", r->password},
                      {"connection_string", r->connection_string},
                      {"expires", seconds(r->expires)},
                      {"reclaim_at", seconds(r->reclaim_at)}});
  }
  if (*rotate) return report(service.rotate(now));
  if (*expire) return report(service.expire(now));
  if (*claims) {
    json out = json::array();
    for (const auto& c : service.claims()) {
      out.push_back({{"namespace", c.ns},
                     {"users", c.users},
                     {"current", c.users[static_cast<size_t>(c.current)]},
                     {"contact", c.contact},
                     {"expires", seconds(c.expires)},
                     {"last_rotation", seconds(c.last_rotation)}});
    }
    return print(out);
  }
  return 2;
}
