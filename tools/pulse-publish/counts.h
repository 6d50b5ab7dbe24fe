#pragma once
// What pulse-publish checks of each input line, and how it counts and reports the outcome.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pulse::tools {

struct PublishCounts {
  uint64_t lines = 0;  // non-empty input lines
  uint64_t published = 0;
  uint64_t confirmed = 0;
  uint64_t failed = 0;  // not JSON, refused, or not confirmed in time
};

// "N published, C confirmed, F failed"
std::string summary_text(const PublishCounts& counts);
// kExitOk iff every non-empty line was confirmed, else kExitFailure.
int exit_status(const PublishCounts& counts);

// Why `line` is not one JSON value (nlohmann's words), or nullopt when it is.
std::optional<std::string> json_error(std::string_view line);
// The line without a trailing CR; empty when it holds only whitespace (such lines are skipped).
std::string_view trim_line(std::string_view line);

}  // namespace pulse::tools
