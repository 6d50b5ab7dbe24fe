#pragma once
// The `key = value` file syntax of pulsed's configuration (rabbitmq.conf's sysctl-like form),
// split into lines: blank lines and `#` comments skipped, keys of letters, digits, `_`, `-` and
// single dots, a value either single-quoted (may hold `#`) or running up to an inline `#`
// comment. What the keys mean is the reader's: pulse-guardian's --config reads its keys from
// lines split here, and so does pulsed's app/config.cc.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse {

struct ConfigLine {
  size_t line = 0;  // 1-based line number in the source
  std::string key;
  std::string value;  // quotes removed
};

// Errors read "<source>:<line>: <what>", as pulsed says them: expected 'key = value', invalid
// key 'k', missing value for key 'k', unterminated quoted value for key 'k'.
Result<std::vector<ConfigLine>> split_config_lines(std::string_view text, std::string_view source);

// A boolean value, "true" or "false" as cuttlefish spells them: empty on success, else the
// reason ("expected true or false").
std::string parse_config_bool(std::string_view value, bool& out);

// "<source>:<line>: <text>", for a reader's own refusals of a line.
Error config_line_error(std::string_view source, size_t line, const std::string& text);

}  // namespace pulse
