#include "ingress.h"

#include <boost/asio/post.hpp>

#include "amqp/generated/constants.h"
#include "base/log.h"
#include "events.h"
#include "pulse/envelope.h"
#include "pulse/routing.h"

namespace pulse::bridge {
namespace {

using httpd::Response;
using nlohmann::json;

// Seconds a client is asked to wait before retrying while the broker is unreachable.
constexpr const char* kRetryAfter = "5";

Response error(unsigned status, std::string_view err, std::string_view reason) {
  return httpd::error_response(status, err, reason);
}

Response unavailable(std::string_view reason) {
  Response r = error(503, "unavailable", reason);
  r.headers.emplace_back("retry-after", kRetryAfter);
  return r;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) {
      auto d = httpd::url_decode(std::string_view(path).substr(i, j - i), false);
      out.push_back(d ? *d : std::string("\x01"));  // never a source name
    }
    i = j + 1;
  }
  return out;
}

const char* route_type(const std::string& first) {
  if (first == "hooks") return "github";
  if (first == "publish") return "publish";
  if (first == "bugzilla") return "bugzilla";
  return nullptr;
}

bool refused_by_broker(const Error& e) {
  return e.code == amqp::kAccessRefused || e.code == amqp::kNotFound ||
         e.code == amqp::kPreconditionFailed || e.code == amqp::kNotAllowed;
}

}  // namespace

std::string bearer_token(const std::string& authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  std::string t = authorization.substr(kScheme.size());
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

bool same_secret(std::string_view given, std::string_view secret) {
  // Both sides hashed under one key first: equal lengths, and no early exit on the secret.
  return hmac_sha256_hex(secret, given) == hmac_sha256_hex(secret, secret) &&
         given.size() == secret.size();
}

// A request refused: counted, logged with the peer, answered. Sources that take a bearer token
// say so on a 401 (WWW-Authenticate: Bearer).
struct Refusal {
  const SourceConfig& s;
  SourceStats& st;
  const httpd::Request& req;
  Reply& done;
  bool bearer;

  void operator()(unsigned status, const std::string& err, const std::string& reason) const {
    ++st.refused;
    spdlog::warn("bridge: source={} event=refused status={} peer={} reason=\"{}\"", s.name, status,
                 req.peer_address, reason);
    Response r = error(status, err, reason);
    if (bearer && status == 401) r.headers.emplace_back("www-authenticate", "Bearer");
    done(std::move(r));
  }
};

// The source's token in `Authorization: Bearer`; refused (and false) otherwise.
bool bearer_ok(const httpd::Request& req, const SourceConfig& s, const Refusal& refuse) {
  const std::string token = bearer_token(req.authorization);
  if (token.empty()) {
    refuse(401, "unauthorized", "missing 'Authorization: Bearer <token>'");
    return false;
  }
  if (!same_secret(token, s.secret)) {
    refuse(403, "forbidden", "wrong token");
    return false;
  }
  return true;
}

Ingress::Ingress(boost::asio::io_context& io, const BridgeConfig& config,
                 std::map<std::string, std::string> exchanges, MessageSink& sink,
                 StatsRegistry& stats)
    : io_(io), config_(config), exchanges_(std::move(exchanges)), sink_(sink), stats_(stats) {}

void Ingress::handle(httpd::Request req, Reply done) {
  auto parts = split_path(req.path);
  if (!parts.empty() && (parts[0] == "health" || parts[0] == "metrics")) {
    if (req.method != "GET") return done(httpd::method_not_allowed("GET, HEAD"));
    const auto broker = sink_.broker();
    if (parts[0] == "metrics" && parts.size() == 1) {
      Response r;
      r.body = stats_.metrics(broker);
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return done(std::move(r));
    }
    if (parts[0] == "health" && parts.size() == 1) {
      json h = stats_.health(broker);
      return done(httpd::json_response(h, h["status"] == "ok" ? 200 : 503));
    }
    if (parts[0] == "health" && parts.size() == 2) {
      SourceStats* st = stats_.find(parts[1]);
      if (!st) return done(error(404, "not_found", "no source '" + parts[1] + "'"));
      json h = st->health();
      h["broker"] = std::string(broker_name(broker));
      return done(httpd::json_response(h, st->healthy() ? 200 : 503));
    }
    return done(httpd::not_found());
  }
  const char* type = parts.size() == 2 ? route_type(parts[0]) : nullptr;
  if (!type) {
    return done(error(404, "not_found",
                      "no such endpoint: POST /hooks/<github source>, /publish/<publish source>, "
                      "/bugzilla/<bugzilla source>; GET /health, /metrics"));
  }
  const SourceConfig* s = config_.find(parts[1]);
  if (!s || type_name(s->type) != type) {
    return done(
        error(404, "not_found", "no " + std::string(type) + " source named '" + parts[1] + "'"));
  }
  SourceStats& st = *stats_.find(s->name);
  if (req.method != "POST") return done(httpd::method_not_allowed("POST"));
  if (req.body.size() > s->max_body) {
    ++st.refused;
    return done(error(413, "payload_too_large",
                      "the body has " + std::to_string(req.body.size()) + " bytes; source '" +
                          s->name + "' takes at most " + std::to_string(s->max_body)));
  }
  switch (s->type) {
    case SourceType::kGithub:
      return github(*s, st, req, std::move(done));
    case SourceType::kPublish:
      return publish(*s, st, req, std::move(done));
    case SourceType::kBugzilla:
      return bugzilla(*s, st, req, std::move(done));
    default:
      return done(httpd::not_found());
  }
}

void Ingress::github(const SourceConfig& s, SourceStats& st, const httpd::Request& req,
                     Reply done) {
  Refusal refuse{s, st, req, done, false};
  if (auto sig = check_github_signature(req.header("x-hub-signature-256"), s.secret, req.body);
      !sig) {
    const unsigned code = static_cast<unsigned>(sig.error().code);
    return refuse(code, code == 401 ? "unauthorized" : "forbidden", sig.error().text);
  }
  const std::string* ev = req.header("x-github-event");
  const std::string event = ev ? *ev : "";
  if (event == "ping") {
    spdlog::info("bridge: source={} event=ping", s.name);
    return done(httpd::json_response({{"ok", true}, {"source", s.name}}));
  }
  json payload = json::parse(req.body, nullptr, false);
  if (payload.is_discarded()) {
    return refuse(400, "bad_request",
                  "the body is not JSON (set the webhook's content type to application/json)");
  }
  auto msgs = github_messages(event, payload);
  if (!msgs) return refuse(400, "bad_request", msgs.error().text);
  const bool wanted =
      event == "push" || std::any_of(s.events.begin(), s.events.end(),
                                     [&](const std::string& e) { return e == "*" || e == event; });
  if (!wanted) {
    ++st.filtered;
    spdlog::info("bridge: source={} event=ignored github_event={}", s.name, event);
    return done(httpd::json_response(
        {{"published", 0}, {"ignored", "event '" + event + "' is not published by this source"}}));
  }
  const std::string& exchange = exchanges_.at(s.name);
  std::vector<Outgoing> out;
  json keys = json::array();
  for (auto& m : *msgs) {
    if (auto k = check_routing_key(m.routing_key); !k)
      return refuse(400, "bad_request", k.error().text);
    keys.push_back(m.routing_key);
    out.push_back({exchange, m.routing_key, build_envelope(m.payload, exchange, m.routing_key)});
  }
  json summary = {{"exchange", exchange}, {"routing_keys", keys}};
  if (const std::string* d = req.header("x-github-delivery")) summary["delivery"] = *d;
  send(s, st, std::move(out), std::move(summary), std::move(done));
}

void Ingress::publish(const SourceConfig& s, SourceStats& st, const httpd::Request& req,
                      Reply done) {
  Refusal refuse{s, st, req, done, true};
  if (!bearer_ok(req, s, refuse)) return;
  std::string key;
  if (const std::string* h = req.header("x-pulse-routing-key")) key = *h;
  if (const std::string* q = req.param("routing_key")) key = *q;
  if (key.empty()) {
    return refuse(400, "bad_request",
                  "no routing key: give an X-Pulse-Routing-Key header or ?routing_key=");
  }
  if (auto k = check_routing_key(key); !k) return refuse(400, "bad_request", k.error().text);
  json payload = json::parse(req.body, nullptr, false);
  if (payload.is_discarded()) return refuse(400, "bad_request", "the body is not JSON");
  const std::string& exchange = exchanges_.at(s.name);
  std::vector<Outgoing> out{{exchange, key, build_envelope(payload, exchange, key)}};
  send(s, st, std::move(out), {{"exchange", exchange}, {"routing_keys", {key}}}, std::move(done));
}

void Ingress::bugzilla(const SourceConfig& s, SourceStats& st, const httpd::Request& req,
                       Reply done) {
  Refusal refuse{s, st, req, done, true};
  if (!bearer_ok(req, s, refuse)) return;
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return refuse(400, "bad_request", "the body is not JSON");
  auto r = bugzilla_message(body);
  if (!r) return refuse(400, "bad_request", r.error().text);
  if (auto k = check_routing_key(r->message.routing_key); !k)
    return refuse(400, "bad_request", k.error().text);
  if (r->filtered) {
    ++st.filtered;
    json bug_id = nullptr;
    if (auto b = body.find("bug"); b != body.end() && b->is_object())
      bug_id = b->value("id", json());
    spdlog::info("bridge: source={} event=filtered routing_key={} reason=\"{}\" bug={}", s.name,
                 r->message.routing_key, r->why, bug_id.dump());
    return done(httpd::json_response({{"published", 0}, {"filtered", r->why}}));
  }
  const std::string& exchange = exchanges_.at(s.name);
  const std::string& key = r->message.routing_key;
  std::vector<Outgoing> out{{exchange, key, build_envelope(r->message.payload, exchange, key)}};
  send(s, st, std::move(out), {{"exchange", exchange}, {"routing_keys", {key}}}, std::move(done));
}

void Ingress::send(const SourceConfig& s, SourceStats& st, std::vector<Outgoing> messages,
                   json summary, Reply done) {
  if (sink_.broker() == MessageSink::Broker::kDown) {
    st.error("the broker is unreachable");
    spdlog::warn("bridge: source={} event=unavailable reason=\"broker unreachable\"", s.name);
    return done(unavailable("the broker is unreachable; nothing was published"));
  }
  const size_t n = messages.size();
  auto* stp = &st;
  const std::string name = s.name;
  sink_.submit(std::move(messages), [this, stp, name, n, summary = std::move(summary),
                                     done = std::move(done)](std::vector<Status> outcomes) mutable {
    boost::asio::post(io_, [stp, name, n, summary = std::move(summary), done = std::move(done),
                            outcomes = std::move(outcomes)]() mutable {
      const auto [ok, first] = tally(outcomes);
      stp->published += ok;
      if (!first) {
        stp->success();
        spdlog::info("bridge: source={} event=published count={} routing_key={}", name, n,
                     summary["routing_keys"][0].get<std::string>());
        summary["published"] = n;
        return done(httpd::json_response(summary, 202));
      }
      stp->error(first->text);
      spdlog::warn("bridge: source={} event=publish_failed confirmed={} of={} reason=\"{}\"", name,
                   ok, n, first->text);
      if (refused_by_broker(*first)) {
        // The broker said no (permissions, a missing exchange): retrying will not help until
        // someone changes the setup, so no Retry-After.
        return done(error(502, "refused_by_broker",
                          "the broker refused the message (" + std::to_string(ok) + " of " +
                              std::to_string(n) + " published): " + first->text));
      }
      done(unavailable("not confirmed by the broker (" + std::to_string(ok) + " of " +
                       std::to_string(n) + " messages were): " + first->text));
    });
  });
}

}  // namespace pulse::bridge
