#include "pulse/admin_http/http_broker_admin.h"

#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/rfc3339.h"
#include "mgmt/errors.h"
#include "mgmt/reason.h"

namespace pulse::admin {

using nlohmann::json;

namespace {

using mgmt::encode_segment;

std::string describe(const std::string& method, const std::string& target) {
  return method + " " + target;
}

// A reply turned into the interface's error values: no answer, 5xx -> kUnavailable; 404 ->
// kNotFound; any other failure keeps its HTTP status as the code and the broker's reason.
Result<mgmt::HttpReply> call(const mgmt::HttpClient& client, const std::string& method,
                             const std::string& target, const std::string& body = {},
                             const mgmt::Headers& extra = {}) {
  auto reply = client.request(method, target, body, extra);
  if (!reply) {
    const Error& e = reply.error();
    if (e.code == mgmt::kUnreachable) return Error{kUnavailable, e.text};
    return Error{400, e.text};  // kBadSettings: TLS files
  }
  const unsigned status = reply->status;
  if (status < 400) return reply;
  const std::string why = mgmt::error_reason(*reply);
  const std::string text = describe(method, target) + ": HTTP " + std::to_string(status) +
                           (why.empty() ? "" : ": ") + why;
  if (status == 404) return Error{kNotFound, text};
  if (status >= 500) return Error{kUnavailable, text};
  return Error{static_cast<uint16_t>(status), text};
}

Result<json> get_json(const mgmt::HttpClient& client, const std::string& target) {
  auto reply = call(client, "GET", target);
  if (!reply) return std::move(reply).error();
  json j = json::parse(reply->body, nullptr, false);
  if (j.is_discarded()) {
    return Error{kUnavailable, describe("GET", target) + ": the reply is not JSON"};
  }
  return j;
}

// A listing: RabbitMQ answers a plain array unless a page is asked for, when it is
// {"items": [...], ...}; both are taken.
Result<json> get_list(const mgmt::HttpClient& client, const std::string& target) {
  auto j = get_json(client, target);
  if (!j) return j;
  if (j->is_object()) {
    if (auto items = j->find("items"); items != j->end() && items->is_array()) return *items;
  }
  if (!j->is_array()) {
    return Error{kUnavailable, describe("GET", target) + ": expected a JSON array"};
  }
  return j;
}

std::string str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// RabbitMQ leaves counters out until the queue's first statistics are emitted.
uint64_t count(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) return it->get<int64_t>() > 0 ? it->get<uint64_t>() : 0;
  const double d = it->get<double>();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

bool flag(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

const mgmt::Headers reason_header(const std::string& reason) {
  if (reason.empty()) return {};
  return {{"X-Reason", reason}};
}

Status done(Result<mgmt::HttpReply> reply) {
  if (!reply) return std::move(reply).error();
  return {};
}

}  // namespace

std::vector<std::string> user_tags(const nlohmann::json& o) {
  std::vector<std::string> tags;
  auto it = o.find("tags");
  if (it == o.end()) return tags;
  if (it->is_array()) {
    for (const auto& t : *it)
      if (t.is_string() && !t.get<std::string>().empty()) tags.push_back(t.get<std::string>());
  } else if (it->is_string()) {
    std::string s = it->get<std::string>(), cur;
    for (char c : s + ",") {
      if (c == ',') {
        if (!cur.empty()) tags.push_back(cur);
        cur.clear();
      } else if (c != ' ') {
        cur.push_back(c);
      }
    }
  }
  return tags;
}

Result<std::unique_ptr<HttpBrokerAdmin>> HttpBrokerAdmin::create(
    const HttpAdminSettings& settings) {
  auto url = mgmt::parse_url(settings.url);
  if (!url) return Error{400, url.error().text};
  mgmt::HttpClient client(*url, settings.user, settings.password, settings.timeout, settings.tls);
  client.set_user_agent("pulse-admin");
  return std::make_unique<HttpBrokerAdmin>(std::move(client));
}

HttpBrokerAdmin::HttpBrokerAdmin(mgmt::HttpClient client) : client_(std::move(client)) {}

Result<std::vector<QueueInfo>> HttpBrokerAdmin::list_queues() {
  // Only the columns used: a node with many queues answers far less (RabbitMQ and pulsed both
  // take `columns`). No page: the whole listing in one array.
  auto queues = get_list(client_,
                         "/api/queues?columns=vhost,name,messages,messages_ready,"
                         "messages_unacknowledged,consumers,durable,auto_delete,exclusive,"
                         "idle_since");
  if (!queues) return std::move(queues).error();
  // One listing of every binding rather than one request per queue.
  auto bindings = get_list(client_, "/api/bindings");
  if (!bindings) return std::move(bindings).error();

  std::map<std::pair<std::string, std::string>, std::vector<BindingInfo>> by_queue;
  for (const json& b : *bindings) {
    if (!b.is_object() || str(b, "destination_type") != "queue") continue;
    const std::string source = str(b, "source");
    if (source.empty()) continue;  // the default exchange
    by_queue[{str(b, "vhost"), str(b, "destination")}].push_back(
        BindingInfo{source, str(b, "routing_key")});
  }

  std::vector<QueueInfo> out;
  out.reserve(queues->size());
  for (const json& q : *queues) {
    if (!q.is_object()) continue;
    QueueInfo info;
    info.vhost = str(q, "vhost");
    info.name = str(q, "name");
    info.messages_ready = count(q, "messages_ready");
    info.messages_unacknowledged = count(q, "messages_unacknowledged");
    info.messages = q.contains("messages") ? count(q, "messages")
                                           : info.messages_ready + info.messages_unacknowledged;
    info.consumers = static_cast<uint32_t>(count(q, "consumers"));
    info.durable = flag(q, "durable");
    info.auto_delete = flag(q, "auto_delete");
    info.exclusive = flag(q, "exclusive");
    if (const std::string idle = str(q, "idle_since"); !idle.empty()) {
      info.idle_since = parse_management_time(idle);
    }
    if (auto it = by_queue.find({info.vhost, info.name}); it != by_queue.end()) {
      info.bindings = std::move(it->second);
    }
    out.push_back(std::move(info));
  }
  return out;
}

Status HttpBrokerAdmin::delete_queue(const std::string& vhost, const std::string& name,
                                     const std::string& reason) {
  return done(call(client_, "DELETE",
                   "/api/queues/" + encode_segment(vhost) + "/" + encode_segment(name), {},
                   reason_header(reason)));
}

Result<std::vector<ExchangeInfo>> HttpBrokerAdmin::list_exchanges() {
  auto xs =
      get_list(client_, "/api/exchanges?columns=vhost,name,type,durable,auto_delete,internal");
  if (!xs) return std::move(xs).error();
  std::vector<ExchangeInfo> out;
  out.reserve(xs->size());
  for (const json& x : *xs) {
    if (!x.is_object()) continue;
    out.push_back(ExchangeInfo{str(x, "vhost"), str(x, "name"), str(x, "type"), flag(x, "durable"),
                               flag(x, "auto_delete"), flag(x, "internal")});
  }
  return out;
}

Status HttpBrokerAdmin::delete_exchange(const std::string& vhost, const std::string& name) {
  // The API's path for the default exchange is "amq.default" (an empty segment would be the
  // vhost's listing).
  const std::string path = name.empty() ? std::string("amq.default") : encode_segment(name);
  return done(call(client_, "DELETE", "/api/exchanges/" + encode_segment(vhost) + "/" + path));
}

Result<std::vector<ConnectionInfo>> HttpBrokerAdmin::list_connections() {
  auto conns = get_list(client_,
                        "/api/connections?columns=name,user,vhost,connected_at,"
                        "peer_host,peer_port");
  if (!conns) return std::move(conns).error();
  std::vector<ConnectionInfo> out;
  for (const json& c : *conns) {
    if (!c.is_object()) continue;
    ConnectionInfo info;
    info.name = str(c, "name");
    info.user = str(c, "user");
    info.vhost = str(c, "vhost");
    info.connected_at = TimePoint(std::chrono::milliseconds(count(c, "connected_at")));
    std::string host = str(c, "peer_host");
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    info.peer = host + ":" + std::to_string(count(c, "peer_port"));
    out.push_back(std::move(info));
  }
  return out;
}

Status HttpBrokerAdmin::close_connection(const std::string& name, const std::string& reason) {
  return done(call(client_, "DELETE", "/api/connections/" + encode_segment(name), {},
                   reason_header(reason)));
}

Result<std::vector<UserInfo>> HttpBrokerAdmin::list_users() {
  auto users = get_list(client_, "/api/users");
  if (!users) return std::move(users).error();
  std::vector<UserInfo> out;
  for (const json& u : *users) {
    if (u.is_object()) out.push_back(UserInfo{str(u, "name"), user_tags(u)});
  }
  return out;
}

Status HttpBrokerAdmin::put_user(const std::string& name, const std::string& password,
                                 const std::vector<std::string>& tags) {
  // Tags as a comma-separated string: what every RabbitMQ version and pulsed accept
  // (PulseGuardian sends "").
  std::string joined;
  for (const auto& t : tags) joined += (joined.empty() ? "" : ",") + t;
  const json body = {{"password", password}, {"tags", joined}};
  return done(call(client_, "PUT", "/api/users/" + encode_segment(name), body.dump()));
}

Status HttpBrokerAdmin::delete_user(const std::string& name) {
  return done(call(client_, "DELETE", "/api/users/" + encode_segment(name)));
}

Status HttpBrokerAdmin::set_permissions(const std::string& vhost, const std::string& user,
                                        const Permissions& p) {
  const json body = {{"configure", p.configure}, {"write", p.write}, {"read", p.read}};
  return done(call(client_, "PUT",
                   "/api/permissions/" + encode_segment(vhost) + "/" + encode_segment(user),
                   body.dump()));
}

Result<std::vector<UserPermissions>> HttpBrokerAdmin::list_permissions(const std::string& user) {
  auto perms = get_list(client_, "/api/users/" + encode_segment(user) + "/permissions");
  if (!perms) return std::move(perms).error();
  std::vector<UserPermissions> out;
  for (const json& p : *perms) {
    if (!p.is_object()) continue;
    out.push_back(
        UserPermissions{str(p, "vhost"), str(p, "user"),
                        Permissions{str(p, "configure"), str(p, "write"), str(p, "read")}});
  }
  return out;
}

}  // namespace pulse::admin
