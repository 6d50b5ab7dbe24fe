#pragma once
// SIGHUP's config reload (app/README.md): re-reads the --config file and applies what can
// change while pulsed runs, naming the changed keys that wait for a restart.
//
// Thread: the event loop (the signal is handled there).
#include <functional>
#include <string>
#include <vector>

#include "app/config.h"
#include "base/result.h"

namespace pulse::app {

// Applies the Pulse layer's changed keys (`keys`: pulse.guardian.*, pulse.smtp.*,
// pulse.accounts.*) from `next`; an error keeps the running Pulse settings (and is logged).
using PulseReload = std::function<Status(const Config& next, const std::vector<std::string>& keys)>;

// Reopens the log files and re-reads `config_file` into `running`: log.console.level (unless
// `log_level_flag`, the --log-level given, stays in force) and the Pulse keys through `pulse`.
// A file that no longer parses or validates is logged and nothing changes.
void reload_config(const std::string& config_file, const std::string& log_level_flag,
                   Config& running, const PulseReload& pulse);

}  // namespace pulse::app
