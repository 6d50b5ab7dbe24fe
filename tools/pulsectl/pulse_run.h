#pragma once
// What pulse_accounts.cc and pulse_guardian.cc share: output of single objects and of the
// API's answers to changes.
#include <string>
#include <vector>

#include "commands.h"
#include "pulse_args.h"

namespace pulse::ctl::pulse_run {

// "owner 'a@b'"
std::string named(const std::string& kind, const std::string& name);

// One object as aligned "key  value" lines (the `keys` it has, in that order; all of them when
// `keys` is empty), or as the JSON object with --json.
void print_object(const Ctx& c, const json& object, const std::vector<std::string>& keys = {});

// After a change: the success line for people, the API's answer (when it has one) with --json.
void report(const Ctx& c, const std::string& line, const json& answer);

Status run_guardian(const Ctx& c, const PulseCommand& cmd);
Status run_subscriptions(const Ctx& c, const PulseCommand& cmd);

}  // namespace pulse::ctl::pulse_run
