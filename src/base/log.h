#pragma once
// Structured, one-line-per-event logging. Modules log through spdlog's default logger; the
// app configures level and format once at start-up.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace pulse {
// Parses RabbitMQ's level names: "debug", "info"/"notice", "warning"/"warn", "error",
// "critical"/"alert"/"emergency", "none"; false on an unknown name.
bool set_log_level(std::string_view level);
// pulsed logs to standard output only (the journal under systemd), so there is no file to
// reopen after a rotation: SIGHUP calls this all the same, and logs what it returns.
std::string reopen_log_files();
void init_logging();
}  // namespace pulse
