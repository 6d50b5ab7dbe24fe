#include "base/config_lines.h"

namespace pulse {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || (c == '.' && key[i - 1] != '.');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string parse_config_bool(std::string_view value, bool& out) {
  if (value == "true" || value == "false") {
    out = value == "true";
    return {};
  }
  return "expected true or false";
}

Error config_line_error(std::string_view source, size_t line, const std::string& text) {
  return Error{0, std::string(source) + ":" + std::to_string(line) + ": " + text};
}

Result<std::vector<ConfigLine>> split_config_lines(std::string_view text, std::string_view source) {
  std::vector<ConfigLine> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;

    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return config_line_error(source, line_no, "expected 'key = value'");
    }
    const std::string key(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    if (!valid_key(key)) return config_line_error(source, line_no, "invalid key '" + key + "'");
    if (!value.empty() && value.front() == '\'') {
      const size_t close = value.find('\'', 1);
      const std::string_view after =
          close == std::string_view::npos ? std::string_view{} : trim(value.substr(close + 1));
      if (close == std::string_view::npos || !(after.empty() || after.front() == '#')) {
        return config_line_error(source, line_no,
                                 "unterminated quoted value for key '" + key + "'");
      }
      value = value.substr(1, close - 1);
    } else {
      value = trim(value.substr(0, value.find('#')));
      if (value.empty()) {
        return config_line_error(source, line_no, "missing value for key '" + key + "'");
      }
    }
    out.push_back(ConfigLine{line_no, key, std::string(value)});
  }
  return out;
}

}  // namespace pulse
