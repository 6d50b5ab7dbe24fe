// `pulsectl pulse subscriptions ...`: /api/pulse/subscriptions (HTTP push subscriptions).
#include <iostream>

#include "exit_codes.h"
#include "pulse_run.h"

namespace pulse::ctl::pulse_run {

namespace {

const std::vector<std::string> kSubscriptionKeys = {
    "id",     "state",    "reason",        "owner",         "user",    "vhost",   "exchange",
    "topic",  "callback", "lease_seconds", "created",       "expires", "ended",   "delivered",
    "failed", "retrying", "last_error",    "last_delivery", "queue",   "messages"};

}  // namespace

Status run_subscriptions(const Ctx& c, const PulseCommand& cmd) {
  if (cmd.verb == "list") {
    const std::string path = pulse_path({"subscriptions"});
    auto r = c.api.pulse("GET", path);
    if (!r) return std::move(r).error();
    if (!r->body.is_array()) return Error{kExitApiError, "GET " + path + " did not return a list"};
    return print_rows(c, r->body, "id,state,exchange,topic,callback,delivered,failed,messages",
                      cmd.columns, "subscriptions");
  }
  if (cmd.verb == "add") {
    auto body = subscription_body(cmd);
    if (!body) return std::move(body).error();
    auto r = c.api.pulse("POST", pulse_path({"subscriptions"}), &*body);
    if (!r) return std::move(r).error();
    if (!c.opt.json)
      std::cout << "subscription " << r->body.value("id", "") << " accepted: Pulse verifies "
                << cmd.callback << " now (see its state with: pulsectl pulse subscriptions show "
                << r->body.value("id", "") << ")\n";
    print_object(c, r->body, kSubscriptionKeys);
    return ok_status();
  }
  const std::string path = pulse_path({"subscriptions", cmd.name});
  if (cmd.verb == "show") {
    auto r = c.api.pulse("GET", path);
    if (!r) return std::move(r).error();
    print_object(c, r->body, kSubscriptionKeys);
    return ok_status();
  }
  auto r = c.api.pulse("DELETE", path);
  if (!r) return std::move(r).error();
  report(c, "deleted " + named("subscription", cmd.name), nullptr);
  return ok_status();
}

}  // namespace pulse::ctl::pulse_run
