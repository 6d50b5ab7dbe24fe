#pragma once
// Structured, one-line-per-event logging. Modules log through spdlog's default logger; the
// app configures level and format once at start-up.
#include <spdlog/spdlog.h>

#include <string_view>

namespace pulse {
// Parses "debug", "info", "warning"/"warn", "error", "none"; false on an unknown name.
bool set_log_level(std::string_view level);
void init_logging();
}  // namespace pulse
