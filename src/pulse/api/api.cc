#include "pulse/api/api.h"

#include <exception>
#include <utility>

#include "pulse/api/json_views.h"

namespace pulse::api {

using nlohmann::json;

PulseApi::PulseApi(accounts::AccountService& accounts, accounts::AccountStore& guardian_store,
                   std::function<TimePoint()> clock)
    : accounts_(accounts),
      guardian_state_(guardian_store),
      clock_(clock ? std::move(clock)
                   : std::function<TimePoint()>([] { return admin::Clock::now(); })) {}

Status PulseApi::load() {
  return guardian_state_.load();
}

Status PulseApi::attach_guardian(guardian::GuardianRunner& runner,
                                 const guardian::NoticeLog& notices) {
  guardian::GuardianSettings base = runner.settings();
  guardian::GuardianSettings merged = merge(base, guardian_state_.overrides());
  runner_ = &runner;
  notices_ = &notices;
  base_ = std::move(base);
  if (auto s = guardian::validate(merged); !s)
    return Error{s.error().code,
                 "the guardian settings set through /api/pulse do not fit the "
                 "configured ones and are not applied: " +
                     s.error().text};
  runner.set_settings(std::move(merged));
  return {};
}

std::optional<json> PulseApi::export_section() const {
  return api::export_section(accounts_.state(), guardian_state_.overrides());
}

Status PulseApi::check_import(const PulseSection& section) const {
  if (runner_ == nullptr) return {};
  const auto next = layer(guardian_state_.overrides(), section.guardian);
  if (auto s = guardian::validate(merge(base_, next)); !s)
    return Error{400, "pulse.guardian: the imported settings do not fit the running guardian's: " +
                          s.error().text};
  return {};
}

Status PulseApi::import_section(const PulseSection& section, const Transaction& transaction) {
  if (auto s = check_import(section); !s) return s;
  auto written = transaction([&]() -> Status {
    if (auto s = accounts_.put_records(section.accounts); !s) return s;
    return guardian_state_.import(section.guardian);
  });
  auto loaded = accounts_.load();
  auto guardian = reload_guardian();
  if (!written) return written;
  if (!loaded) return loaded;
  return guardian;
}

Status PulseApi::reload_guardian() {
  if (auto s = guardian_state_.load(); !s) return s;
  if (runner_ == nullptr) return {};
  return rebase_guardian(base_);
}

Status PulseApi::rebase_guardian(guardian::GuardianSettings base) {
  if (runner_ == nullptr) return {};
  guardian::GuardianSettings merged = merge(base, guardian_state_.overrides());
  if (auto s = guardian::validate(merged); !s) return s;
  base_ = std::move(base);
  runner_->set_settings(std::move(merged));
  return {};
}

void PulseApi::detach_guardian() {
  runner_ = nullptr;
  notices_ = nullptr;
}

accounts::Actor PulseApi::Caller::actor() const {
  return broker_admin ? accounts::Actor::administrator(name) : accounts::Actor(name);
}

PulseApi::Caller PulseApi::caller_of(const Principal& p) const {
  Caller c;
  c.name = p.name;
  c.broker_admin = p.has_tag("administrator");
  auto o = accounts_.find_owner(p.name);
  c.owner = o.has_value();
  c.admin = c.broker_admin || (o && o->admin);
  c.monitor = c.admin || p.has_tag("monitoring");
  return c;
}

ApiResponse PulseApi::handle(const ApiRequest& req) {
  const Caller caller = caller_of(req.principal);
  try {
    return dispatch(req, caller);
  } catch (const std::exception& e) {
    // A wrongly typed field a route did not check: the request is bad, not the server.
    return bad_request(e.what());
  }
}

ApiResponse PulseApi::dispatch(const ApiRequest& req, const Caller& caller) {
  if (req.segments.empty()) return not_found("Not Found");
  const std::string& s = req.segments[0];
  if (s == "whoami") return whoami(req, caller);
  const bool known =
      s == "owners" || s == "users" || s == "namespaces" || s == "guardian" || s == "subscriptions";
  if (!known) return not_found("Not Found");
  const bool monitor_read = caller.monitor && s == "guardian" && req.method == "GET";
  if (!caller.owner && !caller.admin && !monitor_read)
    return access_refused("'" + caller.name + "' is neither a Pulse owner nor an administrator");
  if (s == "owners") return owners(req, caller);
  if (s == "users") return users(req, caller);
  if (s == "namespaces") return namespaces(req, caller);
  if (s == "subscriptions") return subscriptions(req, caller);
  return guardian(req, caller);
}

ApiResponse PulseApi::whoami(const ApiRequest& req, const Caller& caller) {
  if (req.segments.size() != 1) return not_found("Not Found");
  if (req.method != "GET") return method_not_allowed("GET");
  json j = {{"name", caller.name},
            {"tags", req.principal.tags},
            {"owner", caller.owner},
            {"admin", caller.admin}};
  if (auto o = accounts_.find_owner(caller.name)) {
    j["display_name"] = o->display_name;
    j["users"] = accounts_.users_owned_by(caller.name);
  }
  return json_response(std::move(j));
}

}  // namespace pulse::api
