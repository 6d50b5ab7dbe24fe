#include "app/reload.h"

#include <algorithm>

#include "base/log.h"

namespace pulse::app {

namespace {

std::string join(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? std::string("none") : out;
}

bool pulse_key(const std::string& key) {
  return key.starts_with("pulse.");
}

}  // namespace

void reload_config(const std::string& config_file, const std::string& log_level_flag,
                   Config& running, const PulseReload& pulse) {
  spdlog::info("SIGHUP: {}", pulse::reopen_log_files());
  if (config_file.empty()) {
    spdlog::info("SIGHUP: no config file to re-read (pulsed was started without --config)");
    return;
  }
  auto next = load_config_file(config_file);
  if (!next) {
    spdlog::error("SIGHUP: config not reloaded, keeping the running configuration: {}",
                  next.error().text);
    return;
  }
  auto diff = diff_settings(running, *next);
  // The Pulse layer's keys go together: its settings are validated as a whole.
  std::vector<std::string> pulse_keys;
  std::ranges::copy_if(diff.reloadable, std::back_inserter(pulse_keys), pulse_key);
  std::vector<std::string> applied;
  bool pulse_applied = false;
  if (!pulse_keys.empty()) {
    if (auto s = pulse ? pulse(*next, pulse_keys) : Status(); !s) {
      spdlog::error("SIGHUP: {} not applied, the running settings stay: {}", join(pulse_keys),
                    s.error().text);
    } else {
      running.guardian = next->guardian;
      running.smtp = next->smtp;
      running.accounts = next->accounts;
      pulse_applied = true;
    }
  }
  for (const auto& key : diff.reloadable) {
    if (pulse_key(key) && !pulse_applied) continue;
    if (key == "log.console.level" && !log_level_flag.empty()) {
      spdlog::warn("SIGHUP: log.console.level changed but --log-level {} stays in force",
                   log_level_flag);
      continue;
    }
    if (auto it = next->settings.find(key); it != next->settings.end()) {
      running.settings[key] = it->second;
    } else {
      running.settings.erase(key);
    }
    applied.push_back(key);
  }
  // Logged at the more verbose of the old and new levels, so that neither hides it.
  const auto old_level = spdlog::get_level();
  if (std::ranges::find(applied, "log.console.level") != applied.end()) {
    running.log_console_level = next->log_console_level;
    pulse::set_log_level(running.log_console_level);  // parse_config checked the name
  }
  const auto new_level = spdlog::get_level();
  spdlog::set_level(std::min(old_level, new_level));
  spdlog::info("SIGHUP: reloaded config {}: applied: {}; changed but need a restart: {}",
               config_file, join(applied), join(diff.need_restart));
  spdlog::set_level(new_level);
}

}  // namespace pulse::app
