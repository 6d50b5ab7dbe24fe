// status (overview, node, alarms, listeners) and list KIND.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include "commands.h"
#include "exit_codes.h"
#include "table.h"

namespace pulse::ctl {

namespace {

struct ListKind {
  const char* name;
  const char* all_path;    // every vhost the user can see
  const char* vhost_path;  // "{}" stands for the vhost; nullptr: not per vhost
  const char* columns;     // default columns
};

// Paths as in RabbitMQ 3.10's management API; default columns after rabbitmqadmin's.
constexpr ListKind kKinds[] = {
    {"queues", "/api/queues", "/api/queues/{}",
     "vhost,name,type,durable,auto_delete,messages,messages_ready,messages_unacknowledged,"
     "consumers"},
    {"exchanges", "/api/exchanges", "/api/exchanges/{}",
     "vhost,name,type,durable,auto_delete,internal"},
    {"bindings", "/api/bindings", "/api/bindings/{}",
     "vhost,source,destination,destination_type,routing_key,arguments"},
    {"connections", "/api/connections", "/api/vhosts/{}/connections",
     "name,user,vhost,channels,state"},
    {"channels", "/api/channels", "/api/vhosts/{}/channels",
     "name,user,vhost,consumer_count,messages_unacknowledged,prefetch_count"},
    {"consumers", "/api/consumers", "/api/consumers/{}",
     "queue.vhost,queue.name,consumer_tag,channel_details.name,ack_required,prefetch_count"},
    {"users", "/api/users", nullptr, "name,tags"},
    {"vhosts", "/api/vhosts", nullptr, "name,messages"},
    {"permissions", "/api/permissions", "/api/vhosts/{}/permissions",
     "user,vhost,configure,write,read"},
    {"policies", "/api/policies", "/api/policies/{}",
     "vhost,name,pattern,apply-to,priority,definition"},
};

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", n, units[u]);
  return buf;
}

std::string text(const json& j, const char* key) {
  return cell_text(lookup(j, key));
}

}  // namespace

const std::vector<std::string> kListKinds = [] {
  std::vector<std::string> v;
  for (const auto& k : kKinds) v.push_back(k.name);
  return v;
}();

Status cmd_list(const Ctx& c, const std::string& kind, const std::string& columns) {
  const ListKind* k = nullptr;
  for (const auto& candidate : kKinds) {
    if (kind == candidate.name) k = &candidate;
  }
  if (k == nullptr) return Error{kExitUsage, "unknown list: " + kind};
  std::string path = k->all_path;
  std::optional<std::string> vhost;
  if (c.opt.vhost_given && k->vhost_path != nullptr) {
    path = k->vhost_path;
    path.replace(path.find("{}"), 2, seg(c.opt.vhost));
    vhost = c.opt.vhost;
  }
  // A 404 here means a missing vhost or a server without this list (an older pulsed).
  auto rows = c.api.get(path, Subject{"GET " + path, vhost});
  if (!rows) return std::move(rows).error();
  if (!rows->is_array()) {
    return Error{kExitApiError, "GET " + path + " did not return a list"};
  }
  return print_rows(c, *rows, k->columns, columns, kind);
}

Status print_rows(const Ctx& c, const json& rows, const std::string& defaults,
                  const std::string& columns, const std::string& kind) {
  const bool all_columns = columns == "all";
  std::vector<std::string> cols = split_columns(columns.empty() ? defaults : columns);
  if (cols.empty()) return Error{kExitUsage, "--columns: no column named"};
  if (!columns.empty() && !all_columns) {
    for (const auto& missing : missing_columns(rows, cols)) {
      if (!rows.empty())
        std::cerr << "pulsectl: warning: no " << kind << " have '" << missing << "'\n";
    }
  }
  if (c.opt.json) {
    std::cout << (all_columns ? rows : project(rows, cols)).dump(2) << "\n";
  } else {
    if (all_columns) {
      cols.clear();
      for (const auto& row : rows) {
        for (const auto& [key, value] : row.items()) {
          if (std::find(cols.begin(), cols.end(), key) == cols.end()) cols.push_back(key);
        }
      }
    }
    std::cout << render_table(rows, cols, !c.opt.no_header);
  }
  return ok_status();
}

Status cmd_status(const Ctx& c) {
  auto overview = c.api.get("/api/overview", Subject{"overview", std::nullopt});
  if (!overview) return std::move(overview).error();
  const json& o = *overview;
  // Node details (alarms, memory) need the monitoring tag; without it status still works.
  json node = nullptr;
  if (auto nodes = c.api.get("/api/nodes", Subject{"nodes", std::nullopt});
      nodes && nodes->is_array()) {
    for (const auto& n : *nodes) {
      if (n.value("name", "") == o.value("node", "")) node = n;
    }
  }
  json alarms = nullptr;
  if (node.is_object()) {
    alarms = json::array();
    if (node.value("mem_alarm", false)) alarms.push_back("memory");
    if (node.value("disk_free_alarm", false)) alarms.push_back("disk");
  }
  if (c.opt.json) {
    json out = o;
    out["alarms"] = alarms;
    if (node.is_object()) out["node_details"] = node;
    std::cout << out.dump(2) << "\n";
    return ok_status();
  }
  std::string product = text(o, "product_name");
  if (product.empty()) product = "RabbitMQ";
  std::string version = text(o, "product_version");
  if (version.empty()) version = text(o, "rabbitmq_version");
  std::vector<std::pair<std::string, std::string>> lines = {
      {"node", text(o, "node")},
      {"cluster", text(o, "cluster_name")},
      {"version", product + " " + version},
      {"management", text(o, "management_version")},
  };
  if (!text(o, "erlang_version").empty()) lines.emplace_back("erlang", text(o, "erlang_version"));
  std::string objects;
  for (const char* k : {"connections", "channels", "consumers", "queues", "exchanges"}) {
    objects += std::string(objects.empty() ? "" : ", ") + k + " " +
               text(o, (std::string("object_totals.") + k).c_str());
  }
  lines.emplace_back("objects", objects);
  std::string messages;
  for (const auto& [label, key] : {std::pair<const char*, const char*>{"total", "messages"},
                                   {"ready", "messages_ready"},
                                   {"unacked", "messages_unacknowledged"}}) {
    std::string v = text(o, (std::string("queue_totals.") + key).c_str());
    messages += std::string(messages.empty() ? "" : ", ") + label + " " + (v.empty() ? "0" : v);
  }
  lines.emplace_back("messages", messages);
  if (alarms.is_array()) {
    lines.emplace_back("alarms", alarms.empty() ? "none" : cell_text(&alarms));
    if (node.contains("mem_used") && node.contains("mem_limit")) {
      lines.emplace_back("memory", human_bytes(node.value("mem_used", 0.0)) + " used, limit " +
                                       human_bytes(node.value("mem_limit", 0.0)));
    }
    if (node.contains("disk_free") && node.contains("disk_free_limit")) {
      lines.emplace_back("disk", human_bytes(node.value("disk_free", 0.0)) + " free, limit " +
                                     human_bytes(node.value("disk_free_limit", 0.0)));
    }
  } else {
    lines.emplace_back("alarms", "unknown (GET /api/nodes needs the monitoring tag)");
  }
  std::string listeners;
  for (const auto& l : o.value("listeners", json::array())) {
    std::string ip = text(l, "ip_address");
    if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
    listeners += std::string(listeners.empty() ? "" : ", ") + text(l, "protocol") + " " + ip + ":" +
                 text(l, "port");
  }
  lines.emplace_back("listeners", listeners.empty() ? "none" : listeners);
  for (const auto& [label, value] : lines) {
    std::cout << label << std::string(12 - label.size(), ' ') << value << "\n";
  }
  return ok_status();
}

}  // namespace pulse::ctl
