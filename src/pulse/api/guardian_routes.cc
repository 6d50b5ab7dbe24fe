// /guardian...: the running guardian's settings (with the API's layer over the configured
// ones), its statistics, its kept notices and the unbounded flags.
#include <algorithm>
#include <set>

#include "pulse/api/api.h"
#include "pulse/guardian/notice_text.h"

namespace pulse::api {

using nlohmann::json;

namespace {

json optional_count(const std::optional<uint64_t>& v) {
  return v ? json(*v) : json(nullptr);
}
json optional_seconds(const std::optional<std::chrono::seconds>& v) {
  return v ? json(v->count()) : json(nullptr);
}

json owner_override_json(const guardian::OwnerOverride& o) {
  return {{"warn_queue_size", optional_count(o.warn_queue_size)},
          {"delete_queue_size", optional_count(o.delete_queue_size)}};
}

}  // namespace

json PulseApi::guardian_json() const {
  const guardian::GuardianSettings& s = runner_->settings();
  json owners = json::object();
  for (const auto& [name, o] : s.owners) owners[name] = owner_override_json(o);
  json unbounded = json::array();
  for (const auto& q : s.unbounded) unbounded.push_back({{"vhost", q.vhost}, {"queue", q.name}});
  const GuardianOverrides& o = guardian_state_.overrides();
  json api_owners = json::object();
  for (const auto& [name, ov] : o.owners) api_owners[name] = owner_override_json(ov);
  const guardian::RunnerStats& st = runner_->stats();
  return {{"enabled", s.enabled},
          {"settings",
           {{"interval", s.interval.count()},
            {"warn_queue_size", s.thresholds.warn_queue_size},
            {"delete_queue_size", s.thresholds.delete_queue_size},
            {"idle_queue_expiry", s.idle_queue_expiry.count()},
            {"max_connection_age", s.max_connection_age.count()},
            {"owners", std::move(owners)},
            {"unbounded", std::move(unbounded)}}},
          {"overrides",
           {{"interval", optional_seconds(o.interval)},
            {"warn_queue_size", optional_count(o.warn_queue_size)},
            {"delete_queue_size", optional_count(o.delete_queue_size)},
            {"idle_queue_expiry", optional_seconds(o.idle_queue_expiry)},
            {"max_connection_age", optional_seconds(o.max_connection_age)},
            {"owners", std::move(api_owners)}}},
          {"stats",
           {{"polls", st.polls},
            {"failed_polls", st.failed_polls},
            {"queues_deleted", st.queues_deleted},
            {"connections_closed", st.connections_closed},
            {"notices", st.notices},
            {"command_failures", st.command_failures}}},
          {"last_notice_id", notices_ ? notices_->last_id() : 0}};
}

ApiResponse PulseApi::apply_overrides(const GuardianOverrides& next) {
  GuardianOverrides full = next;
  full.unbounded = guardian_state_.overrides().unbounded;
  guardian::GuardianSettings merged = merge(base_, full);
  if (auto s = guardian::validate(merged); !s) return bad_request(s.error().text);
  if (auto s = guardian_state_.set_settings(next); !s)
    return error_response(500, "internal_error", s.error().text);
  runner_->set_settings(std::move(merged));
  return json_response(guardian_json());
}

ApiResponse PulseApi::guardian(const ApiRequest& req, const Caller& caller) {
  const auto& seg = req.segments;
  if (seg.size() == 1) return guardian_settings(req, caller);
  const std::string& s = seg[1];
  if (s == "notices" && seg.size() == 2)
    return req.method == "POST" ? operator_notice(req, caller) : guardian_notices(req, caller);
  if (s == "owners" && seg.size() <= 3) return guardian_owner(req, caller);
  if (s == "unbounded" && (seg.size() == 2 || seg.size() == 4))
    return guardian_unbounded(req, caller);
  return not_found("Not Found");
}

ApiResponse PulseApi::guardian_settings(const ApiRequest& req, const Caller& caller) {
  if (req.method != "GET" && req.method != "PUT") return method_not_allowed("GET, PUT");
  if (req.method == "PUT" && !caller.admin)
    return access_refused("only administrators may change the guardian's settings");
  if (runner_ == nullptr) return not_running();
  if (req.method == "GET") return json_response(guardian_json());

  ApiResponse error;
  auto body = BodyReader::parse(req.body, error);
  if (!body) return error;
  body->only({"interval", "warn_queue_size", "delete_queue_size", "idle_queue_expiry",
              "max_connection_age"});
  GuardianOverrides next = guardian_state_.overrides();
  // null drops the API's value (the configured one applies again); absent leaves it.
  auto seconds = [&](const char* key, uint64_t min, std::optional<std::chrono::seconds>& out) {
    if (!body->has(key)) return;
    if (body->is_null(key)) {
      out.reset();
    } else if (auto v = body->integer(key, min, kMaxSeconds, "a number of seconds")) {
      out = std::chrono::seconds(static_cast<int64_t>(*v));
    }
  };
  auto count = [&](const char* key, std::optional<uint64_t>& out) {
    if (!body->has(key)) return;
    if (body->is_null(key)) {
      out.reset();
    } else if (auto v = body->integer(key, 1, kMaxCount, "a number of messages")) {
      out = *v;
    }
  };
  seconds("interval", 1, next.interval);
  count("warn_queue_size", next.warn_queue_size);
  count("delete_queue_size", next.delete_queue_size);
  seconds("idle_queue_expiry", 0, next.idle_queue_expiry);
  seconds("max_connection_age", 0, next.max_connection_age);
  if (!body->ok()) return bad_request(body->error());
  return apply_overrides(next);
}

ApiResponse PulseApi::guardian_owner(const ApiRequest& req, const Caller& caller) {
  const auto& seg = req.segments;
  if (seg.size() == 2 ? req.method != "GET"
                      : (req.method != "GET" && req.method != "PUT" && req.method != "DELETE"))
    return method_not_allowed(seg.size() == 2 ? "GET" : "GET, PUT, DELETE");
  if (req.method != "GET" && !caller.admin)
    return access_refused("only administrators may change the guardian's settings");
  if (runner_ == nullptr) return not_running();
  const auto& effective = runner_->settings().owners;
  if (seg.size() == 2) {
    json out = json::object();
    for (const auto& [name, o] : effective) out[name] = owner_override_json(o);
    return json_response(std::move(out));
  }
  const std::string& owner = seg[2];
  if (owner.size() > kMaxName || owner.find('/') != std::string::npos)
    return bad_request("'" + owner +
                       "' cannot be a queue owner (the <owner> of queue/<owner>/...)");
  const auto found = effective.find(owner);
  if (req.method == "GET") {
    if (found == effective.end()) return not_found("no thresholds of owner '" + owner + "'");
    return json_response(owner_override_json(found->second));
  }
  GuardianOverrides next = guardian_state_.overrides();
  if (req.method == "DELETE") {
    if (!next.owners.erase(owner)) {
      if (found != effective.end())
        return conflict("the thresholds of owner '" + owner +
                        "' are set in the configuration (pulse.guardian.owners.*)");
      return not_found("no thresholds of owner '" + owner + "'");
    }
    ApiResponse r = apply_overrides(next);
    return r.status == 200 ? no_content() : r;
  }
  ApiResponse error;
  auto body = BodyReader::parse(req.body, error);
  if (!body) return error;
  body->only({"warn_queue_size", "delete_queue_size"});
  guardian::OwnerOverride o;
  o.warn_queue_size = body->integer("warn_queue_size", 1, kMaxCount, "a number of messages");
  o.delete_queue_size = body->integer("delete_queue_size", 1, kMaxCount, "a number of messages");
  if (!body->ok()) return bad_request(body->error());
  if (!o.warn_queue_size && !o.delete_queue_size)
    return bad_request("give 'warn_queue_size', 'delete_queue_size' or both");
  next.owners[owner] = o;
  ApiResponse r = apply_overrides(next);
  if (r.status != 200) return r;
  return json_response(owner_override_json(o));
}

ApiResponse PulseApi::guardian_notices(const ApiRequest& req, const Caller& caller) {
  if (req.method != "GET") return method_not_allowed("GET, POST");
  if (runner_ == nullptr || notices_ == nullptr) return not_running();
  auto number = [&](const char* key, uint64_t dflt, uint64_t max) -> std::optional<uint64_t> {
    auto it = req.query.find(key);
    if (it == req.query.end()) return dflt;
    const std::string& v = it->second;
    if (v.empty() || v.size() > 19 || !std::all_of(v.begin(), v.end(), ::isdigit))
      return std::nullopt;
    const uint64_t n = std::stoull(v);
    return n <= max ? std::optional<uint64_t>(n) : std::nullopt;
  };
  // "after" (what pollers pass: the last id they saw); "since" is the same.
  const char* after_key = req.query.contains("after") ? "after" : "since";
  auto since = number(after_key, 0, UINT64_MAX);
  if (!since) return bad_request(std::string("'") + after_key + "' must be a notice id (a number)");
  auto limit = number("limit", notices_->capacity(), notices_->capacity());
  if (!limit || *limit == 0)
    return bad_request("'limit' must be a number from 1 to " +
                       std::to_string(notices_->capacity()));
  const auto owner_it = req.query.find("owner");
  // An owner sees the notices of the Pulse users it owns (a notice's owner is the <owner> of
  // queue/<owner>/..., or a closed connection's user).
  std::set<std::string> mine;
  if (!caller.monitor) {
    auto users = accounts_.users_owned_by(caller.name);
    mine.insert(users.begin(), users.end());
  }
  json out = json::array();
  for (const auto& e : notices_->entries()) {
    if (e.id <= *since) continue;
    const auto& o = e.notice.owner;
    if (!caller.monitor && (!o || !mine.contains(*o))) continue;
    if (owner_it != req.query.end() && (!o || *o != owner_it->second)) continue;
    json j = guardian::notice_json(e.notice);
    j["id"] = e.id;
    j["routing_key"] = guardian::notice_routing_key(e.notice);
    out.push_back(std::move(j));
    if (out.size() >= *limit) break;
  }
  return json_response(std::move(out));
}

ApiResponse PulseApi::guardian_unbounded(const ApiRequest& req, const Caller& caller) {
  const auto& seg = req.segments;
  const bool one = seg.size() == 4;
  if (one ? (req.method != "GET" && req.method != "PUT" && req.method != "DELETE")
          : req.method != "GET")
    return method_not_allowed(one ? "GET, PUT, DELETE" : "GET");
  if (req.method != "GET" && !caller.admin)
    return access_refused("only administrators may mark queues unbounded");
  if (runner_ == nullptr) return not_running();
  const auto& api_set = guardian_state_.overrides().unbounded;
  auto entry = [&](const guardian::QueueRef& q) {
    return json{{"vhost", q.vhost},
                {"queue", q.name},
                {"set_by", base_.unbounded.contains(q) ? "config" : "api"}};
  };
  if (!one) {
    json out = json::array();
    for (const auto& q : runner_->settings().unbounded) out.push_back(entry(q));
    return json_response(std::move(out));
  }
  if (auto e = check_amqp_name(seg[2], "the vhost name")) return *e;
  if (auto e = check_amqp_name(seg[3], "the queue name")) return *e;
  const guardian::QueueRef q{seg[2], seg[3]};
  const bool effective = runner_->settings().unbounded.contains(q);
  if (req.method == "GET") {
    if (!effective)
      return not_found("queue '" + q.name + "' in vhost '" + q.vhost + "' is not marked unbounded");
    return json_response(entry(q));
  }
  if (req.method == "PUT") {
    if (effective) return no_content();
    if (auto s = guardian_state_.add_unbounded(q); !s)
      return error_response(500, "internal_error", s.error().text);
  } else {
    if (!api_set.contains(q)) {
      if (effective)
        return conflict("queue '" + q.name + "' in vhost '" + q.vhost +
                        "' is marked unbounded in the configuration (pulse.guardian.unbounded.*)");
      return not_found("queue '" + q.name + "' in vhost '" + q.vhost + "' is not marked unbounded");
    }
    if (auto s = guardian_state_.remove_unbounded(q); !s)
      return error_response(500, "internal_error", s.error().text);
  }
  runner_->set_settings(merge(base_, guardian_state_.overrides()));
  if (req.method == "DELETE") return no_content();
  return json_response(entry(q), 201);
}

}  // namespace pulse::api
