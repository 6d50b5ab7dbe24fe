// /api/overview, /api/whoami, /api/nodes, /api/extensions.
#include <unistd.h>

#include <chrono>
#include <map>

#include "http/api.h"
#include "http/history.h"
#include "http/list.h"
#include "http/stats.h"

namespace pulse::http {
namespace {

using nlohmann::json;

constexpr const char* kManagementVersion = "3.10.8";  // the RabbitMQ API we follow

const auto kStarted = std::chrono::steady_clock::now();

NodeStatus node_status(const Call& c) {
  return c.api.hooks().node_status ? c.api.hooks().node_status() : NodeStatus{};
}

json exchange_types() {
  json out = json::array();
  for (const char* t : {"direct", "fanout", "headers", "topic"}) {
    out.push_back(
        {{"name", t},
         {"description", std::string("AMQP ") + t + " exchange, as per the AMQP specification"},
         {"enabled", true}});
  }
  return out;
}

json listeners_json(Api& api, const NodeStatus& st) {
  json out = json::array();
  for (const auto& l : st.listeners) {
    out.push_back({{"node", api.node_name()},
                   {"protocol", l.protocol},
                   {"ip_address", l.ip},
                   {"port", l.port},
                   {"socket_opts", json::object()}});
  }
  return out;
}

// The queue totals are summed in slices (100k queues); the rest is read when they are done.
Response overview(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  SampleRanges ranges = parse_sample_ranges(c.req);
  if (auto r = range_refusal(ranges, false)) return *r;
  VhostWalk::Keep keep = visible_vhosts(c, nullptr);
  sum_queues_sliced(
      c.api.scheduler(), c.broker(), keep,
      [&api = c.api, keep, respond = c.respond,
       ranges](std::map<std::string, QueueTotals>& by_vhost) {
        NodeStatus st = api.hooks().node_status ? api.hooks().node_status() : NodeStatus{};
        QueueTotals totals;
        LengthRates rates;
        for (const auto& [name, t] : by_vhost) {
          rates += api.stats().vhost_length_rates(name);
          totals.messages += t.messages;
          totals.ready += t.ready;
          totals.unacked += t.unacked;
          totals.queues += t.queues;
          totals.consumers += t.consumers;
        }
        size_t exchanges = 0;
        for (const auto& [name, vh] : api.broker().vhosts())
          if (keep(name)) exchanges += vh->exchanges().size();
        json o = {{"management_version", kManagementVersion},
                  {"rates_mode", "basic"},
                  {"exchange_types", exchange_types()},
                  {"product_version", "0.1.0"},
                  {"product_name", "Pulse"},
                  {"rabbitmq_version", kManagementVersion},
                  {"cluster_name", api.broker().global_parameters().cluster_name()},
                  {"node", api.node_name()},
                  {"disable_stats", false},
                  {"enable_queue_totals", false},
                  {"message_stats", api.stats().global_message_stats()},
                  {"churn_rates", api.stats().churn_rates()},

                  {"queue_totals", totals.to_json(rates)},
                  {"object_totals",
                   {{"channels", st.channels},
                    {"connections", st.connections},
                    {"consumers", totals.consumers},
                    {"exchanges", exchanges},
                    {"queues", totals.queues}}},
                  {"statistics_db_event_queue", 0},
                  {"listeners", listeners_json(api, st)},
                  {"contexts", json::array()}};
        if (ranges.any())
          api.stats().add_overview_samples(o["message_stats"], o["queue_totals"], ranges);
        respond(json_response(o));
      });
  return deferred();
}

Response whoami(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  return json_response({{"name", c.user.name}, {"tags", c.user.tags}});
}

json node_json(const Call& c) {
  NodeStatus st = node_status(c);
  auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - kStarted)
                    .count();
  return {{"name", c.api.node_name()},
          {"type", "disc"},
          {"running", true},
          {"os_pid", std::to_string(::getpid())},
          {"mem_used", st.mem_used},
          {"mem_limit", st.mem_limit},
          {"mem_alarm", st.memory_alarm},
          {"disk_free", st.disk_free},
          {"disk_free_limit", st.disk_free_limit},
          {"disk_free_alarm", st.disk_alarm},
          {"uptime", uptime},
          {"partitions", json::array()},
          {"applications", json::array()},
          {"contexts", json::array()},
          {"exchange_types", exchange_types()},
          {"being_drained", false}};
}

Response nodes(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  if (auto r = require_monitor(c)) return *r;
  if (auto r = range_refusal(c.req)) return *r;
  if (c.nseg() == 1) return reply_list(c.req, json::array({node_json(c)}), {{"name"}});
  if (c.nseg() == 2 && c.seg(1) == c.api.node_name()) return json_response(node_json(c));
  return not_found();
}

}  // namespace

Response overview_controller(const Call& c) {
  const std::string& s = c.seg(0);
  if (s == "overview" && c.nseg() == 1) return overview(c);
  if (s == "whoami" && c.nseg() == 1) return whoami(c);
  if (s == "nodes") return nodes(c);
  if (s == "extensions" && c.nseg() == 1) return json_response(json::array());
  return not_found();
}

}  // namespace pulse::http
