#include "http/api.h"

#include "auth/password.h"
#include "base/log.h"
#include "http/list.h"
#include "http/metrics.h"

namespace pulse::http {

broker::Broker& Call::broker() const {
  return api.broker();
}
auth::AuthStore& Call::auth() const {
  return api.auth();
}

bool is_admin(const auth::User& u) {
  return u.has_tag("administrator");
}
bool is_monitor(const auth::User& u) {
  return is_admin(u) || u.has_tag("monitoring");
}
bool is_policymaker(const auth::User& u) {
  return is_admin(u) || u.has_tag("policymaker");
}
bool is_management(const auth::User& u) {
  return is_monitor(u) || is_policymaker(u) || u.has_tag("management");
}

std::optional<Response> require_admin(const Call& c) {
  if (is_admin(c.user)) return std::nullopt;
  return not_authorised("Not administrator user");
}
std::optional<Response> require_monitor(const Call& c) {
  if (is_monitor(c.user)) return std::nullopt;
  return not_authorised("Not monitor user");
}
std::optional<Response> require_policymaker(const Call& c) {
  if (is_policymaker(c.user)) return std::nullopt;
  return not_authorised("Not policymaker user");
}

std::optional<Response> require_vhost(const Call& c, const std::string& vhost, bool visible) {
  if (c.broker().find_vhost(vhost) == nullptr) {
    // RabbitMQ's resources answer a missing vhost differently: reads 404 "Object Not Found",
    // declarations 404 "vhost_not_found", publish and get (which authorise on the vhost
    // first) 401.
    if (c.method() != "PUT" && c.method() != "POST") return not_found();
    const std::string& last = c.seg(c.nseg() - 1);
    if (c.method() == "POST" && c.nseg() == 4 && (last == "publish" || last == "get"))
      return not_authorised("Access refused.");
    return error_response(404, "not_found", "vhost_not_found");
  }
  // As rabbit_mgmt_util: reads need the vhost to be visible to the user (monitoring users and
  // administrators see them all), changes need a permission on it, administrators included.
  if (visible && is_monitor(c.user)) return std::nullopt;
  if (c.auth().has_vhost_access(c.user.name, vhost)) return std::nullopt;
  return not_authorised("User not authorised to access virtual host");
}

bool vhost_visible(const Call& c, const std::string& vhost) {
  return is_monitor(c.user) || c.auth().has_vhost_access(c.user.name, vhost);
}

VhostWalk::Keep visible_vhosts(const Call& c, const std::string* only_vhost) {
  if (only_vhost != nullptr)
    return [v = *only_vhost](const std::string& vhost) { return vhost == v; };
  if (is_monitor(c.user)) return [](const std::string&) { return true; };
  return [&auth = c.auth(), user = c.user.name](const std::string& vhost) {
    return auth.has_vhost_access(user, vhost);
  };
}

std::optional<nlohmann::json> parse_json_object(const std::string& text) {
  // RabbitMQ reads an empty body as {} (`curl -X PUT .../vhosts/v` with no body works); white
  // space alone is not JSON there either.
  if (text.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::optional<nlohmann::json> parse_body(const Call& c, Response& error) {
  auto j = parse_json_object(c.req.body);
  if (!j) error = bad_request("not_json");
  return j;
}

Response broker_error(const Error& e) {
  std::string_view text = e.text;
  if (auto p = text.find(" - "); p != std::string_view::npos) text = text.substr(p + 3);
  if (e.code == 403) return not_authorised("Access refused.");
  if (e.code == 404) return not_found();
  return bad_request(text);
}

Response deferred() {
  Response r;
  r.status = 0;
  return r;
}

Api::Api(broker::Broker& broker, auth::AuthStore& auth, Hooks hooks, std::string node_name)
    : broker_(broker), auth_(auth), hooks_(std::move(hooks)), node_name_(std::move(node_name)) {}

namespace {

// "Basic base64(user:password)"; nullopt when absent or malformed.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view h) {
  constexpr std::string_view kBasic = "basic ";
  if (h.size() < kBasic.size()) return std::nullopt;
  for (size_t i = 0; i < kBasic.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(h[i])) != kBasic[i]) return std::nullopt;
  h.remove_prefix(kBasic.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  auto decoded = auth::base64_decode(h);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

}  // namespace

void Api::handle(Request req, std::function<void(Response)> done) {
  if (!req.under_api) {
    // Prometheus scrapes carry no credentials, as on RabbitMQ's endpoint.
    if (is_metrics_path(req)) return metrics_response(*this, req, std::move(done));
    done(not_found());
    return;
  }
  if (req.method == "OPTIONS") {
    Response r = empty_response(200);
    r.headers.emplace_back("allow", "HEAD, GET, PUT, POST, DELETE, OPTIONS");
    done(std::move(r));
    return;
  }
  if (req.method == "GET" && req.segments.size() == 1 && req.segments[0] == "auth") {
    done(auth_settings());
    return;
  }
  // Cowboy answers a missing Authorization header with an empty 401 and the challenge.
  if (req.authorization.empty()) {
    Response r = empty_response(401);
    r.headers.emplace_back("www-authenticate", "Basic realm=\"RabbitMQ Management\"");
    done(std::move(r));
    return;
  }
  // An address over its failure limit gets the wrong-password answer, credentials unchecked.
  const auto now = auth::FailureLimiter::Clock::now();
  const bool counted = !req.peer_address.empty() && auth_failures_.applies_to(req.peer_loopback);
  if (counted && auth_failures_.blocked(req.peer_address, now)) {
    done(login_failed());
    return;
  }
  auto creds = basic_credentials(req.authorization);
  const auth::User* user = creds ? auth_.authenticate(creds->first, creds->second) : nullptr;
  if (user == nullptr) {
    if (counted) auth_failures_.record_failure(req.peer_address, now);
    done(login_failed());
    return;
  }
  if (!is_management(*user)) {
    done(not_authorised("Not management user"));
    return;
  }
  auto shared = std::make_shared<const Request>(std::move(req));
  if (shared->param("columns") != nullptr) {
    done = [shared, inner = std::move(done)](Response r) {
      project_object_columns(*shared, r);
      inner(std::move(r));
    };
  }
  Call call{*this, *shared, *user, shared, done};
  Response r;
  try {
    r = dispatch(call);
  } catch (const std::exception& e) {
    // nlohmann throws on wrongly typed fields a controller did not check; the request is
    // bad, not the server.
    spdlog::debug("management API: {} {}: {}", shared->method, shared->path, e.what());
    r = bad_request(e.what());
  }
  if (!is_deferred(r)) done(std::move(r));
}

Response Api::dispatch(const Call& c) {
  if (c.nseg() == 0) return not_found();
  const std::string& s = c.seg(0);
  if (s == "overview" || s == "whoami" || s == "nodes" || s == "extensions")
    return overview_controller(c);
  if (s == "health" || s == "aliveness-test") return health_controller(c);
  if (s == "cluster-name" || s == "global-parameters") return global_parameters_controller(c);
  if (s == "vhosts" && c.nseg() == 3 && c.seg(2) == "connections") return connections_controller(c);
  if (s == "vhosts" && c.nseg() == 3 && c.seg(2) == "channels") return channels_controller(c);
  if (s == "vhosts") return vhosts_controller(c);
  if (s == "users") return users_controller(c);
  if (s == "permissions" || s == "topic-permissions") return permissions_controller(c);
  if (s == "exchanges") return exchanges_controller(c);
  if (s == "queues") return queues_controller(c);
  if (s == "bindings") return bindings_controller(c);
  if (s == "policies") return policies_controller(c);
  if (s == "definitions" || s == "all-configuration") return definitions_controller(c);
  if (s == "connections") return connections_controller(c);
  if (s == "channels") return channels_controller(c);
  if (s == "consumers") return consumers_controller(c);
  if (s == "parameters" || s == "vhost-limits" || s == "user-limits") return limits_controller(c);
  if (s == "feature-flags" || s == "operator-policies") return optional_features_controller(c);
  if (s == "pulse") return pulse_controller(c);
  return not_found();
}

}  // namespace pulse::http
