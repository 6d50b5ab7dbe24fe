// `pulsectl pulse guardian ...`: /api/pulse/guardian's settings, per-owner thresholds,
// notices (and following them) and unbounded flags.
#include <iostream>
#include <thread>

#include "exit_codes.h"
#include "pulse_run.h"
#include "table.h"

namespace pulse::ctl::pulse_run {

namespace {

// The settings as a table: the value in force and whether this API or the configuration set
// it (an override of null is the configuration's).
void print_guardian(const Ctx& c, const json& g) {
  if (c.opt.json) {
    std::cout << g.dump(2) << "\n";
    return;
  }
  const json settings = g.value("settings", json::object());
  const json overrides = g.value("overrides", json::object());
  print_object(c, g, {"enabled", "last_notice_id"});
  std::cout << "\n";
  json rows = json::array();
  for (const auto& key : kGuardianSettingKeys) {
    const bool api = overrides.contains(key) && !overrides[key].is_null();
    rows.push_back({{"setting", key},
                    {"value", settings.value(key, json(nullptr))},
                    {"set_by", api ? "api" : "config"}});
  }
  std::cout << render_table(rows, {"setting", "value", "set_by"}, !c.opt.no_header);
  const size_t owners = settings.value("owners", json::object()).size();
  const size_t unbounded = settings.value("unbounded", json::array()).size();
  std::cout << "\nowner thresholds  " << owners << " (pulsectl pulse guardian owners list)\n"
            << "unbounded queues  " << unbounded << " (pulsectl pulse guardian unbounded list)\n";
  std::string stats;
  const json counters = g.value("stats", json::object());
  for (const auto& [k, v] : counters.items())
    stats += (stats.empty() ? "" : ", ") + k + " " + v.dump();
  std::cout << "stats             " << stats << "\n";
}

Status guardian_settings(const Ctx& c, const PulseCommand& cmd) {
  const std::string path = pulse_path({"guardian"});
  if (cmd.verb == "show") {
    auto r = c.api.pulse("GET", path);
    if (!r) return std::move(r).error();
    print_guardian(c, r->body);
    return ok_status();
  }
  auto body = parse_guardian_settings(cmd.settings);
  if (!body) return std::move(body).error();
  auto r = c.api.pulse("PUT", path, &*body);
  if (!r) return std::move(r).error();
  print_guardian(c, r->body);
  return ok_status();
}

Status guardian_owners(const Ctx& c, const PulseCommand& cmd) {
  const std::string what = named("owner", cmd.name);
  if (cmd.verb == "list") {
    auto r = c.api.pulse("GET", pulse_path({"guardian", "owners"}));
    if (!r) return std::move(r).error();
    // Which entries this API set (the rest are the configuration's): GET /guardian's overrides.
    json api_set = json::object();
    if (auto g = c.api.pulse("GET", pulse_path({"guardian"}))) {
      api_set = g->body.value("overrides", json::object()).value("owners", json::object());
    }
    json rows = json::array();
    for (const auto& [owner, t] : r->body.items()) {
      json row = t;
      row["owner"] = owner;
      row["set_by"] = api_set.contains(owner) ? "api" : "config";
      rows.push_back(std::move(row));
    }
    return print_rows(c, rows, "owner,warn_queue_size,delete_queue_size,set_by", cmd.columns,
                      "owners");
  }
  const std::string path = pulse_path({"guardian", "owners", cmd.name});
  if (cmd.verb == "reset") {
    auto r = c.api.pulse("DELETE", path);
    if (!r) return std::move(r).error();
    report(c, "reset the thresholds of " + what + " (the configured ones apply)", nullptr);
    return ok_status();
  }
  json body = json::object();
  if (cmd.warn) body["warn_queue_size"] = *cmd.warn;
  if (cmd.del) body["delete_queue_size"] = *cmd.del;
  auto r = c.api.pulse("PUT", path, &body);
  if (!r) return std::move(r).error();
  // The entry is replaced as a whole: a threshold not given is the global one again.
  std::string line = "set the thresholds of " + what + ":";
  for (const char* k : {"warn_queue_size", "delete_queue_size"}) {
    const json v = r->body.value(k, json(nullptr));
    line += std::string(line.back() == ':' ? " " : ", ") + k + " " +
            (v.is_null() ? std::string("global") : v.dump());
  }
  report(c, line, r->body);
  return ok_status();
}

// A queue's notice names the queue, a connection's the connection: one column for both.
json readable_notices(json rows) {
  for (auto& row : rows) {
    row["object"] = row.contains("queue") ? row["queue"] : row.value("connection", json(nullptr));
  }
  return rows;
}

Status guardian_notices(const Ctx& c, const PulseCommand& cmd) {
  const char* defaults = "id,time,event,owner,vhost,object,messages";
  std::optional<uint64_t> after = cmd.after;
  std::optional<uint64_t> limit = cmd.limit;
  bool header = !c.opt.no_header;
  for (;;) {
    const std::string path =
        pulse_path({"guardian", "notices"}) + notices_query(after, cmd.owner, limit);
    auto r = c.api.pulse("GET", path);
    if (!r) return std::move(r).error();
    if (!r->body.is_array()) {
      return Error{kExitApiError, "GET " + path + " did not return a list"};
    }
    const json& rows = r->body;
    if (!cmd.follow) {
      if (c.opt.json && cmd.columns.empty()) return print_rows(c, rows, "", "all", "notices");
      return print_rows(c, c.opt.json ? rows : readable_notices(rows), defaults, cmd.columns,
                        "notices");
    }
    if (!rows.empty()) {
      after = rows.back().value("id", after.value_or(0));
      if (c.opt.json) {
        // A stream has no end for a JSON array to close: one notice a line.
        const json shown = cmd.columns.empty() || cmd.columns == "all"
                               ? rows
                               : project(rows, split_columns(cmd.columns));
        for (const auto& n : shown) std::cout << n.dump() << "\n";
      } else {
        std::vector<std::string> cols =
            split_columns(cmd.columns.empty() || cmd.columns == "all" ? defaults : cmd.columns);
        std::cout << render_table(readable_notices(rows), cols, header);
        header = false;
      }
      std::cout.flush();
    }
    limit.reset();  // the limit is the first page's; later polls take all that is new
    std::this_thread::sleep_for(std::chrono::duration<double>(cmd.poll_seconds));
  }
}

Status guardian_unbounded(const Ctx& c, const PulseCommand& cmd) {
  if (cmd.verb == "list") {
    auto r = c.api.pulse("GET", pulse_path({"guardian", "unbounded"}));
    if (!r) return std::move(r).error();
    return print_rows(c, r->body, "vhost,queue,set_by", cmd.columns, "unbounded queues");
  }
  const std::string what = in_vhost(named("queue", cmd.queue), cmd.name);
  const std::string path = pulse_path({"guardian", "unbounded", cmd.name, cmd.queue});
  if (cmd.verb == "add") {
    auto r = c.api.pulse("PUT", path);
    if (!r) return std::move(r).error();
    report(c, r->status == 201 ? "marked " + what + " unbounded" : what + " was already unbounded",
           r->body);
    return ok_status();
  }
  auto r = c.api.pulse("DELETE", path);
  if (!r) return std::move(r).error();
  report(c, what + " is no longer unbounded", nullptr);
  return ok_status();
}

}  // namespace

Status run_guardian(const Ctx& c, const PulseCommand& cmd) {
  if (cmd.noun == "guardian-owners") return guardian_owners(c, cmd);
  if (cmd.noun == "guardian-unbounded") return guardian_unbounded(c, cmd);
  if (cmd.verb == "notices") return guardian_notices(c, cmd);
  return guardian_settings(c, cmd);
}

}  // namespace pulse::ctl::pulse_run
