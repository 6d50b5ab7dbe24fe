#include "counts.h"

#include <nlohmann/json.hpp>

#include "cli.h"

namespace pulse::tools {

std::string summary_text(const PublishCounts& c) {
  return std::to_string(c.published) + " published, " + std::to_string(c.confirmed) +
         " confirmed, " + std::to_string(c.failed) + " failed";
}

int exit_status(const PublishCounts& c) {
  return c.failed == 0 && c.confirmed == c.lines ? kExitOk : kExitFailure;
}

std::optional<std::string> json_error(std::string_view line) {
  if (nlohmann::json::accept(line.begin(), line.end())) return std::nullopt;
  try {
    const auto parsed = nlohmann::json::parse(line.begin(), line.end());
    (void)parsed;
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." without the id;
    // out_of_range.406 for a number no double holds (1e400).
    std::string text = e.what();
    if (const size_t close = text.find("] "); text.rfind("[json.", 0) == 0 && close != text.npos) {
      text.erase(0, close + 2);
    }
    return text;
  }
  return std::string("invalid JSON");
}

std::string_view trim_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) return {};
  return line;
}

}  // namespace pulse::tools
