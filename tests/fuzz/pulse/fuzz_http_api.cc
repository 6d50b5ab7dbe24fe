// The management API (src/http) in-process, as the HTTP server hands it requests: a fresh
// Broker and AuthStore per input (the users, vhosts and permissions of the unit tests'
// fixture), then a sequence of requests taken from the input.
//
// Input: records separated by 0x1e. A record whose first byte is 'R' is a raw HTTP request
// parsed by Beast's parser with the server's limits (httpd/server.cc), converted as the server
// does; any other record is [method byte][path template byte][user byte] then lines: one per
// "%s" of the template (spliced in raw, so escapes and slashes reach parse_target), the query
// string, and the body (the rest).
//
// Checks: every request is answered before handle() returns (no scheduler: chunked work runs
// inline), with a valid status; a JSON error body is RabbitMQ's {"error", "reason"}.
#include <spdlog/spdlog.h>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_store.h"
#include "auth/password.h"
#include "broker/broker.h"
#include "definitions/apply.h"
#include "definitions/json.h"
#include "fuzz_check.h"
#include "http/api.h"
#include "http/message.h"
#include "pulse/accounts/account_store.h"
#include "pulse/admin_local/local_broker_admin.h"
#include "pulse/api_host/api_host.h"

namespace {

using nlohmann::json;
using pulse::fuzz::check;
namespace bhttp = boost::beast::http;

const char* const kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"};

// Every controller's paths (RabbitMQ's /api), "%s" filled from the input.
const char* const kPaths[] = {
    "/api/overview",
    "/api/whoami",
    "/api/nodes",
    "/api/nodes/%s",
    "/api/extensions",
    "/api/auth",
    "/api/health/checks/%s",
    "/api/health/checks/%s/%s",
    "/api/aliveness-test/%s",
    "/api/cluster-name",
    "/api/global-parameters",
    "/api/global-parameters/%s",
    "/api/vhosts",
    "/api/vhosts/%s",
    "/api/vhosts/%s/permissions",
    "/api/vhosts/%s/topic-permissions",
    "/api/vhosts/%s/connections",
    "/api/vhosts/%s/channels",
    "/api/vhosts/%s/%s/%s",
    "/api/users",
    "/api/users/%s",
    "/api/users/%s/permissions",
    "/api/users/%s/topic-permissions",
    "/api/users/without-permissions",
    "/api/users/bulk-delete",
    "/api/permissions",
    "/api/permissions/%s/%s",
    "/api/topic-permissions",
    "/api/topic-permissions/%s/%s",
    "/api/exchanges",
    "/api/exchanges/%s",
    "/api/exchanges/%s/%s",
    "/api/exchanges/%s/%s/publish",
    "/api/exchanges/%s/%s/bindings/source",
    "/api/exchanges/%s/%s/bindings/destination",
    "/api/queues",
    "/api/queues/%s",
    "/api/queues/%s/%s",
    "/api/queues/%s/%s/bindings",
    "/api/queues/%s/%s/contents",
    "/api/queues/%s/%s/actions",
    "/api/queues/%s/%s/get",
    "/api/bindings",
    "/api/bindings/%s",
    "/api/bindings/%s/e/%s/q/%s",
    "/api/bindings/%s/e/%s/e/%s",
    "/api/bindings/%s/e/%s/q/%s/%s",
    "/api/bindings/%s/e/%s/e/%s/%s",
    "/api/policies",
    "/api/policies/%s",
    "/api/policies/%s/%s",
    "/api/operator-policies",
    "/api/operator-policies/%s/%s",
    "/api/parameters",
    "/api/parameters/%s",
    "/api/parameters/%s/%s",
    "/api/parameters/%s/%s/%s",
    "/api/vhost-limits",
    "/api/vhost-limits/%s",
    "/api/vhost-limits/%s/%s",
    "/api/user-limits",
    "/api/user-limits/%s",
    "/api/user-limits/%s/%s",
    "/api/definitions",
    "/api/definitions/%s",
    "/api/all-configuration",
    "/api/connections",
    "/api/connections/%s",
    "/api/connections/%s/channels",
    "/api/channels",
    "/api/channels/%s",
    "/api/consumers",
    "/api/consumers/%s",
    "/api/feature-flags",
    "/api/feature-flags/%s/enable",
    "/api/pulse/%s",
    "/api/%s",
    "/api/%s/%s/%s/%s",
    "%s",
};
constexpr size_t kPathCount = sizeof(kPaths) / sizeof(kPaths[0]);

struct Who {
  const char* name;
  const char* password;
};
const Who kUsers[] = {{"guest", "guest"},    {"alice", "alice-secret1"}, {"bob", "bob-secret2"},
                      {"mon", "mon-secret"}, {"pol", "pol-secret"},      {"guest", "wrong"},
                      {nullptr, nullptr}};
constexpr size_t kUserCount = sizeof(kUsers) / sizeof(kUsers[0]);

struct World {
  pulse::broker::Broker broker;
  pulse::auth::AuthStore auth;
  // /api/pulse/...: Pulse's API as pulsed hosts it (ApiHost over this broker, stores in memory;
  // no guardian or push engine attached, so those routes answer 503).
  boost::asio::io_context io;
  pulse::admin::LocalBrokerAdmin admin{broker, auth, {}};
  pulse::accounts::MemoryAccountStore accounts_store, guardian_store;
  pulse::api::ApiHost pulse_api{io, admin, accounts_store, guardian_store, {}};
  std::unique_ptr<pulse::http::Api> api;

  World() {
    broker.add_vhost("/");
    broker.add_vhost("pulse-test");
    user("guest", "guest", {"administrator"});
    user("alice", "alice-secret1", {"management"});
    user("bob", "bob-secret2", {});
    user("mon", "mon-secret", {"monitoring"});
    user("pol", "pol-secret", {"policymaker"});
    permit("guest", "/", ".*", ".*", ".*");
    permit("guest", "pulse-test", ".*", ".*", ".*");
    permit("alice", "/", "^alice\\.", "^(alice\\.|amq\\.default$|amq\\.topic$)", ".*");
    permit("bob", "/", "^bob\\.", "^bob\\.", "^bob\\.");
    permit("pol", "/", ".*", ".*", ".*");
    (void)auth.set_topic_permissions("alice", "/", "amq.topic", "^alice\\.", "^alice\\.");
    pulse::http::Hooks hooks;
    // POST /api/definitions as app/ wires it, without the slices or the Pulse section.
    hooks.import_definitions = [this](pulse::http::Scheduler&, std::shared_ptr<json> doc,
                                      std::optional<std::string> vhost,
                                      std::function<void(pulse::Status)> done) {
      if (vhost) {
        for (const char* k : {"users", "vhosts", "permissions", "topic_permissions"}) doc->erase(k);
        for (const char* k : {"queues", "exchanges", "bindings", "policies", "parameters"}) {
          auto it = doc->find(k);
          if (it == doc->end() || !it->is_array()) continue;
          for (auto& item : *it)
            if (item.is_object()) item["vhost"] = *vhost;
        }
      }
      auto parsed = pulse::definitions::parse_definitions(
          doc->dump(-1, ' ', false, json::error_handler_t::replace));
      if (!parsed) return done(parsed.error());
      done(pulse::definitions::apply_definitions(*parsed, broker, auth));
    };
    check(pulse_api.start().ok(), "Pulse API starts");
    hooks.pulse_api = [this](const pulse::http::Request& req, const pulse::auth::User& user) {
      return pulse_api.handle(req, pulse::api::Principal{user.name, user.tags});
    };
    api = std::make_unique<pulse::http::Api>(broker, auth, std::move(hooks), "rabbit@localhost");
  }
  ~World() { pulse_api.stop(); }
  void user(const char* name, const char* password, std::vector<std::string> tags) {
    check(auth.add_user(name, password, std::move(tags)).ok(), "fixture user");
  }
  void permit(const char* user, const char* vhost, const char* c, const char* w, const char* r) {
    check(auth.set_permissions(user, vhost, c, w, r).ok(), "fixture permission");
  }
};

void check_response(const pulse::http::Response& r) {
  check(r.status >= 100 && r.status <= 599, "status is a valid HTTP status");
  if (r.status < 400 || r.body.empty() || r.content_type != "application/json") return;
  json j = json::parse(r.body, nullptr, false);
  check(!j.is_discarded(), "error body is JSON");
  // Health checks answer 503 {"status": "failed", "reason": ...} as RabbitMQ does.
  if (j.is_object() && j.contains("status")) {
    check(j.contains("reason"), "failed health check has a reason");
    return;
  }
  check(j.is_object() && j.contains("error") && j.contains("reason"),
        "error body is {\"error\", \"reason\"}");
}

// PULSE_FUZZ_TRACE=1 prints each request and its status (to see what a seed reaches).
const bool kTrace = std::getenv("PULSE_FUZZ_TRACE") != nullptr;

void send(World& w, pulse::http::Request req) {
  if (kTrace) std::fprintf(stderr, "%s %s ", req.method.c_str(), req.target.c_str());
  std::optional<pulse::http::Response> got;
  w.api->handle(std::move(req), [&](pulse::http::Response r) {
    check(!got, "answered once");
    got = std::move(r);
  });
  check(got.has_value(), "answered before handle() returned");
  if (kTrace) std::fprintf(stderr, "-> %u %.200s\n", got->status, got->body.c_str());
  check_response(*got);
}

// The server's conversion of a parsed Beast request (httpd/server.cc, Session::on_read).
void raw_request(World& w, std::string_view bytes) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  // As http::async_read feeds it: put() until done, an error, or no progress (then EOF).
  while (!ec && !parser.is_done() && !bytes.empty()) {
    size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == bhttp::error::need_more) ec = {};
    if (used == 0) break;
    bytes.remove_prefix(used);
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (kTrace && (ec || !parser.is_done())) std::fprintf(stderr, "raw: %s\n", ec.message().c_str());
  if (ec || !parser.is_done()) return;
  auto& in = parser.get();
  pulse::http::Request req;
  req.method = std::string(in.method_string());
  if (in.method() == bhttp::verb::head) req.method = "GET";
  if (!pulse::http::parse_target(std::string_view(in.target().data(), in.target().size()), req))
    return;
  if (auto it = in.find(bhttp::field::authorization); it != in.end())
    req.authorization = std::string(it->value());
  if (auto it = in.find("x-reason"); it != in.end()) req.x_reason = std::string(it->value());
  if (auto it = in.find(bhttp::field::content_type); it != in.end())
    req.content_type = std::string(it->value());
  req.target = std::string(in.target());
  for (const auto& f : in) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[std::move(name)] = std::string(f.value());
  }
  req.body = std::move(in.body());
  send(w, std::move(req));
}

std::string_view take_line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

void templated_request(World& w, std::string_view rec) {
  if (rec.size() < 3) return;
  auto b = [&](size_t i) { return static_cast<unsigned char>(rec[i]); };
  const char* method = kMethods[b(0) % std::size(kMethods)];
  std::string_view tmpl = kPaths[b(1) % kPathCount];
  const Who& who = kUsers[b(2) % kUserCount];
  std::string_view rest = rec.substr(3);
  std::string target;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '%' && i + 1 < tmpl.size() && tmpl[i + 1] == 's') {
      target += take_line(rest);
      ++i;
    } else {
      target += tmpl[i];
    }
  }
  std::string_view query = take_line(rest);
  if (!query.empty()) target += "?" + std::string(query);
  pulse::http::Request req;
  if (!pulse::http::parse_target(target, req)) return;
  req.target = target;
  req.method = method;
  req.body = std::string(rest);
  req.peer_address = "127.0.0.1";
  req.peer_loopback = true;
  if (who.name != nullptr)
    req.authorization =
        "Basic " + pulse::auth::base64_encode(std::string(who.name) + ":" + who.password);
  send(w, std::move(req));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    if (!kTrace) spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  World w;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < 16 && !in.empty(); ++n) {
    size_t sep = in.find('\x1e');
    std::string_view rec = in.substr(0, sep);
    in = sep == std::string_view::npos ? std::string_view() : in.substr(sep + 1);
    if (!rec.empty() && rec[0] == 'R')
      raw_request(w, rec.substr(1));
    else
      templated_request(w, rec);
  }
  return 0;
}
