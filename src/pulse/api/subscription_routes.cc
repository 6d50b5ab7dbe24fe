// /subscriptions...: HTTP push subscriptions (src/pulse/push's Engine, attached by the host).
#include <algorithm>

#include "pulse/api/api.h"

namespace pulse::api {

using nlohmann::json;

namespace {

json optional_time(const std::optional<push::TimePoint>& t) {
  return t ? json(format_rfc3339(*t)) : json(nullptr);
}

}  // namespace

json PulseApi::subscription_json(const push::Subscription& s) const {
  auto depth = push_->depth(s);
  const bool live = s.state == push::State::kActive || s.state == push::State::kVerifying;
  return {{"id", s.id},
          {"owner", s.owner},
          {"user", s.queue_owner},
          {"vhost", s.vhost},
          {"exchange", s.exchange},
          {"topic", s.topic},
          {"callback", s.callback},
          {"lease_seconds", s.lease_seconds},
          {"created", format_rfc3339(s.created)},
          // Verifying: when the lease would end if verified now; ended or failed: when.
          {live ? "expires" : "ended", format_rfc3339(s.expires)},
          {"state", push::state_name(s.state)},
          {"reason", s.reason.empty() ? json(nullptr) : json(s.reason)},
          {"delivered", s.delivered},
          {"failed", s.failed},
          {"retrying", push_->in_retry(s.id)},
          {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
          {"last_delivery", optional_time(s.last_delivery)},
          {"queue", s.queue()},
          {"messages", s.state == push::State::kActive && depth ? json(*depth) : json(nullptr)}};
}

ApiResponse PulseApi::subscriptions(const ApiRequest& req, const Caller& caller) {
  if (push_ == nullptr)
    return error_response(503, "unavailable", "push subscriptions are not running");
  const auto& seg = req.segments;
  auto visible = [&](const push::Subscription& s) {
    return caller.admin || s.owner == caller.name;
  };
  if (seg.size() == 1) {
    if (req.method == "GET") {
      json out = json::array();
      for (const auto* s : push_->list())
        if (visible(*s)) out.push_back(subscription_json(*s));
      return json_response(std::move(out));
    }
    if (req.method != "POST") return method_not_allowed("GET, POST");
    if (req.body.size() > kMaxBody) return bad_request("the body is over 64 KiB");
    const auto body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded()) return bad_request("the body is not JSON");
    auto r = push::parse_request(body, push_->settings().limits);
    if (!r) return bad_request(r.error().text);
    if (!r->queue_owner.empty() && r->queue_owner != caller.name && !caller.admin) {
      auto u = accounts_.find_user(r->queue_owner);
      if (!u) return bad_request("no Pulse user '" + r->queue_owner + "'");
      if (std::ranges::find(u->owners, caller.name) == u->owners.end())
        return access_refused("'" + caller.name + "' does not own the Pulse user '" +
                              r->queue_owner + "'");
    }
    auto made = push_->subscribe(caller.name, *r);
    if (!made) return from_error(made.error());
    if (push_changed_) push_changed_();
    // Accepted: the verification of intent runs now; GET shows how it went.
    return json_response(subscription_json(*made->subscription), 202);
  }
  if (seg.size() != 2) return not_found("Not Found");
  const push::Subscription* s = push_->find(seg[1]);
  if (s == nullptr || !visible(*s)) return not_found("no push subscription '" + seg[1] + "'");
  if (req.method == "GET") return json_response(subscription_json(*s));
  if (req.method != "DELETE") return method_not_allowed("GET, DELETE");
  if (auto st = push_->unsubscribe(seg[1]); !st) return from_error(st.error());
  if (push_changed_) push_changed_();
  return no_content();
}

}  // namespace pulse::api
