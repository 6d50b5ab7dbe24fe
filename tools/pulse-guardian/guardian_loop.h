#pragma once
// pulse-guardian's main loop: checks the management API login once, then polls through a
// GuardianRunner over HttpBrokerAdmin from a timer on one io_context, which also pumps the
// notice publisher and, with --listen, serves /api/pulse (api_front.h), until `stop` is set
// (SIGINT, SIGTERM) or, with --once, after one poll.
#include <atomic>

#include "config_file.h"
#include "guardian_args.h"

namespace pulse::tools {

// Returns the exit status (guardian_args.h, --help).
int run_guardian(const GuardianArgs& args, const GuardianConfig& config,
                 const std::atomic<bool>& stop);

}  // namespace pulse::tools
