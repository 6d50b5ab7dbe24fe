// /api/health/checks/... and /api/aliveness-test/{vhost}: the checks RabbitMQ 3.10 offers,
// for load balancers and monitoring (any management user may call them).
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>

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

// rabbit_mgmt_wm_health_check_certificate_expiration's dates: UTC, the hour not padded.
std::string expiry_text(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d-%02d-%02d %d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// Erlang's binary_to_integer: an optional sign and at least one digit, of any size. Values
// beyond a double's range saturate, which changes no answer (every certificate expires within
// 10^300 days).
std::optional<double> erlang_integer(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  double v = 0;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return std::nullopt;
    v = v * 10 + (s[j] - '0');
  }
  return s[0] == '-' ? -v : v;
}

// GET /api/health/checks/certificate-expiration/{within}/{unit}, as RabbitMQ 3.10: every TLS
// listener whose certificate file or CA file holds a certificate whose notAfter comes before
// now + within is reported, its files read now. RabbitMQ 3.10 looks only at listeners whose
// certfile sits at the top of its options (AMQPS), so it never sees the management and
// Prometheus HTTPS certificates; pulsed checks those too. A listener without a cacertfile
// answers 500 in RabbitMQ (it cannot print the missing path); pulsed gives "".
Response certificate_expiration(const Call& c) {
  auto within = erlang_integer(c.seg(3));
  if (!within) return bad_request("Invalid expiration value.");
  std::string unit = c.seg(4);
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::map<std::string, double> kUnitSeconds = {{"days", 86400.0},
                                                             {"weeks", 86400.0 * 7},
                                                             {"months", 86400.0 * 365 / 12},
                                                             {"years", 86400.0 * 365}};
  auto u = kUnitSeconds.find(unit);
  if (u == kUnitSeconds.end())
    return bad_request("Time unit not recognised. Supported units: days, weeks, months, years.");
  const auto& hook = c.api.hooks().tls_listener_certificates;
  const auto listeners = hook ? hook() : std::vector<TlsListenerCertificates>{};
  using namespace std::chrono;
  const double deadline =
      static_cast<double>(duration_cast<seconds>(system_clock::now().time_since_epoch()).count()) +
      *within * u->second;
  auto expiring = [deadline](const std::vector<system_clock::time_point>& not_after,
                             const std::string& error) {
    if (!error.empty()) return json({{"error", error}});
    json out = json::array();
    for (auto t : not_after) {
      if (static_cast<double>(duration_cast<seconds>(t.time_since_epoch()).count()) < deadline)
        out.push_back(expiry_text(t));
    }
    return out;
  };
  json expired = json::array();
  // RabbitMQ folds the listeners into a list head first: the last listener comes first.
  for (auto it = listeners.rbegin(); it != listeners.rend(); ++it) {
    json cert = expiring(it->certfile_not_after, it->certfile_error);
    json ca = expiring(it->cacertfile_not_after, it->cacertfile_error);
    if (cert.empty() && ca.empty()) continue;
    expired.push_back({{"node", c.api.node_name()},
                       {"protocol", it->protocol},
                       {"interface", it->interface},
                       {"port", it->port},
                       {"certfile", it->certfile},
                       {"cacertfile", it->cacertfile},
                       {"certfile_expires_on", cert},
                       {"cacertfile_expires_on", ca}});
  }
  if (expired.empty()) return json_response({{"status", "ok"}});
  return json_response(
      {{"status", "failed"}, {"reason", "Certificates expiring"}, {"expired", expired}}, 503);
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
