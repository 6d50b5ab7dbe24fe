#pragma once
// pulse-bridge's run: the sink, the pollers' threads and the HTTP listener on one io_context
// (README.md, "Threads").
#include <atomic>

#include "bridge_args.h"
#include "bridge_config.h"

namespace pulse::bridge {

// Runs until `stop` is set; the exit status (0, or 2 when it cannot start).
int run_bridge(const BridgeArgs& args, const BridgeConfig& config, const std::atomic<bool>& stop);

}  // namespace pulse::bridge
