// /api/health/checks/... and /api/aliveness-test/{vhost}: the checks RabbitMQ 3.10 offers,
// for load balancers and monitoring (any management user may call them).
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include "http/api.h"

namespace pulse::http {
namespace {

using nlohmann::json;

NodeStatus node_status(const Call& c) {
  return c.api.hooks().node_status ? c.api.hooks().node_status() : NodeStatus{};
}

// The listeners' protocol names as RabbitMQ's check normalises what it is asked for.
std::string normalise_protocol(std::string p) {
  for (auto& ch : p) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::map<std::string, std::string> kAliases = {{"amqp091", "amqp"},
                                                              {"amqp0.9.1", "amqp"},
                                                              {"amqp0-9-1", "amqp"},
                                                              {"amqp0_9_1", "amqp"},
                                                              {"amqp10", "amqp"},
                                                              {"amqp1.0", "amqp"},
                                                              {"amqp1-0", "amqp"},
                                                              {"amqp1_0", "amqp"},
                                                              {"amqps", "amqp/ssl"},
                                                              {"http1", "http"},
                                                              {"http1.1", "http"},
                                                              {"http_api", "http"},
                                                              {"management", "http"},
                                                              {"management_ui", "http"},
                                                              {"ui", "http"},
                                                              {"cli", "clustering"},
                                                              {"distribution", "clustering"},
                                                              {"webstomp", "http/web-stomp"},
                                                              {"web-stomp", "http/web-stomp"},
                                                              {"web_stomp", "http/web-stomp"}};
  auto it = kAliases.find(p);
  return it == kAliases.end() ? p : it->second;
}

Response protocol_listener(const Call& c, const NodeStatus& st) {
  const std::string wanted = normalise_protocol(c.seg(3));
  json protocols = json::array();
  for (const auto& l : st.listeners) {
    if (l.protocol == wanted) return json_response({{"status", "ok"}, {"protocol", wanted}});
    protocols.push_back(l.protocol);
  }
  return json_response({{"status", "failed"},
                        {"reason", "No active listener"},
                        {"missing", wanted},
                        {"protocols", protocols}},
                       503);
}

// pulsed has no TLS listener yet, so no certificate can expire: RabbitMQ answers the same
// without one, after checking the arguments.
Response certificate_expiration(const Call& c) {
  const std::string& within = c.seg(3);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(within.data(), within.data() + within.size(), n);
  if (ec != std::errc() || p != within.data() + within.size() || within.empty())
    return bad_request("Invalid expiration value.");
  static const std::set<std::string> kUnits = {"days", "weeks", "months", "years"};
  if (!kUnits.count(c.seg(4)))
    return bad_request("Time unit not recognised. Supported units: days, weeks, months, years.");
  return json_response({{"status", "ok"}});
}

Response health(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  if (c.nseg() < 3 || c.seg(1) != "checks") return not_found();
  const std::string& check = c.seg(2);
  NodeStatus st = node_status(c);
  if (check == "alarms" && c.nseg() == 3) {
    if (!st.memory_alarm && !st.disk_alarm) return json_response({{"status", "ok"}});
    json alarms = json::array();
    if (st.memory_alarm) alarms.push_back({{"resource", "memory"}, {"node", c.api.node_name()}});
    if (st.disk_alarm) alarms.push_back({{"resource", "disk"}, {"node", c.api.node_name()}});
    return json_response({{"status", "failed"},
                          {"reason", "resource alarm(s) in effect in the cluster"},
                          {"alarms", alarms}},
                         503);
  }
  if (check == "local-alarms" && c.nseg() == 3) {
    if (!st.memory_alarm && !st.disk_alarm) return json_response({{"status", "ok"}});
    return json_response({{"status", "failed"}, {"reason", "resource alarm(s) in effect"}}, 503);
  }
  if (check == "virtual-hosts" && c.nseg() == 3) return json_response({{"status", "ok"}});
  if (check == "port-listener" && c.nseg() == 4) {
    long port = -1;
    try {
      port = std::stol(c.seg(3));
    } catch (...) {
      return bad_request("Invalid port");
    }
    json ports = json::array();
    for (const auto& l : st.listeners) {
      ports.push_back(l.port);
      if (l.port == port) return json_response({{"status", "ok"}, {"port", port}});
    }
    return json_response({{"status", "failed"},
                          {"reason", "No active listener"},
                          {"missing", port},
                          {"ports", ports}},
                         503);
  }
  if ((check == "node-is-quorum-critical" || check == "node-is-mirror-sync-critical") &&
      c.nseg() == 3)
    return json_response({{"status", "ok"}, {"reason", "single node cluster"}});
  if (check == "certificate-expiration" && c.nseg() == 5) return certificate_expiration(c);
  if (check == "protocol-listener" && c.nseg() == 4) return protocol_listener(c, st);
  return not_found();
}

Response aliveness(const Call& c) {
  if (c.method() != "GET") return method_not_allowed("HEAD, GET, OPTIONS");
  if (c.nseg() != 2) return not_found();
  const std::string& vh = c.seg(1);
  if (auto r = require_vhost(c, vh, false)) return *r;
  broker::VHost* vhost = c.broker().find_vhost(vh);
  broker::QueueDeclare d;
  d.name = "aliveness-test";
  auto q = vhost->declare_queue(d);
  if (!q) return json_response({{"status", "failed"}, {"reason", q.error().text}}, 503);
  broker::Message m;
  m.routing_key = "aliveness-test";
  m.body = "test_message";
  auto pub = vhost->publish(std::move(m));
  if (!pub || pub->routed == 0)
    return json_response({{"status", "failed"}, {"reason", "publish failed"}}, 503);
  auto got = (*q)->get(true);
  if (!got || got->msg->body != "test_message")
    return json_response({{"status", "failed"}, {"reason", "message not received"}}, 503);
  return json_response({{"status", "ok"}});
}

}  // namespace

Response health_controller(const Call& c) {
  if (c.seg(0) == "health") return health(c);
  return aliveness(c);
}

}  // namespace pulse::http
