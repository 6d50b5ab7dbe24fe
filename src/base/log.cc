#include "base/log.h"

namespace pulse {

bool set_log_level(std::string_view level) {
  spdlog::level::level_enum l;
  if (level == "debug")
    l = spdlog::level::debug;
  else if (level == "info" || level == "notice")
    l = spdlog::level::info;
  else if (level == "warning" || level == "warn")
    l = spdlog::level::warn;
  else if (level == "error")
    l = spdlog::level::err;
  else if (level == "critical" || level == "alert" || level == "emergency")
    l = spdlog::level::critical;
  else if (level == "none")
    l = spdlog::level::off;
  else
    return false;
  spdlog::set_level(l);
  return true;
}

std::string reopen_log_files() {
  spdlog::default_logger()->flush();
  return "no log files to reopen (pulsed logs to standard output)";
}

void init_logging() {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
  spdlog::set_level(spdlog::level::info);
}

}  // namespace pulse
