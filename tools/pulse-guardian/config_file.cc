#include "config_file.h"

#include <fstream>
#include <sstream>

#include "base/config_lines.h"
#include "pulse/guardian/settings_reader.h"

namespace pulse::tools {
namespace {

constexpr std::string_view kSmtpPrefix = "pulse.smtp.";
constexpr std::string_view kAccountsPrefix = "pulse.accounts.";

}  // namespace

Result<GuardianConfig> parse_guardian_config(std::string_view text, std::string_view source) {
  auto lines = split_config_lines(text, source);
  if (!lines) return std::move(lines).error();
  guardian::SettingsReader reader;
  GuardianConfig cfg;
  size_t enabled_line = 0;
  // On by default: starting pulse-guardian is asking for the guardian.
  (void)reader.apply("pulse.guardian.enabled", "true");
  for (const ConfigLine& l : *lines) {
    Status st;
    if (l.key.starts_with(guardian::kSettingsPrefix)) {
      st = reader.apply(l.key, l.value);
      if (l.key == "pulse.guardian.enabled") enabled_line = l.line;
    } else if (l.key.starts_with(kSmtpPrefix)) {
      st = smtp::apply_setting(cfg.smtp, l.key, l.value);
    } else if (l.key.starts_with(kAccountsPrefix)) {
      st = accounts::apply_setting(cfg.accounts, l.key, l.value);
    } else if (l.key.starts_with("pulse.push.")) {
      st = push::apply_setting(cfg.push, l.key, l.value);
    } else {
      st = Error{0, "unknown key '" + l.key +
                        "': pulse-guardian reads only pulse.guardian.*, pulse.smtp.*, "
                        "pulse.accounts.* and pulse.push.* keys"};
    }
    if (!st) return config_line_error(source, l.line, st.error().text);
  }
  auto settings = reader.finish();
  if (!settings) return Error{0, std::string(source) + ": " + settings.error().text};
  if (!settings->enabled) {
    return config_line_error(source, enabled_line,
                             "pulse.guardian.enabled = false: the guardian is off in this file; "
                             "pulse-guardian only runs it (remove the line to run it)");
  }
  if (auto st = smtp::validate(cfg.smtp); !st) {
    return Error{0, std::string(source) + ": " + st.error().text};
  }
  cfg.guardian = std::move(*settings);
  return cfg;
}

Result<GuardianConfig> load_guardian_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{0, "cannot read config file '" + path + "'"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{0, "cannot read config file '" + path + "'"};
  return parse_guardian_config(ss.str(), path);
}

}  // namespace pulse::tools
