#pragma once
// pulse-guardian's --config: pulse.guardian.* (guardian/settings_reader.h), pulse.smtp.*
// (smtp/settings.h) and pulse.accounts.* (accounts/settings.h) keys in pulsed's config syntax
// (base/config_lines.h). Every other key is refused, naming file, line and key: the file holds only
// what pulse-guardian reads, so a misspelt key (pulse.gaurdian.interval) cannot be ignored in
// silence.
#include <string>
#include <string_view>

#include "base/result.h"
#include "pulse/accounts/settings.h"
#include "pulse/guardian/settings.h"
#include "pulse/push/engine.h"
#include "pulse/smtp/settings.h"

namespace pulse::tools {

struct GuardianConfig {
  guardian::GuardianSettings guardian;  // enabled: true unless the file refused it
  smtp::SmtpSettings smtp;              // host empty: email is off
  accounts::AccountSettings accounts;   // pulse.accounts.*: /api/pulse's (--listen)
  push::Settings push;                  // pulse.push.*: push subscriptions (--listen)
};

// `source` names the file in errors ("<source>:<line>: ..." for a line, "<source>: ..." for
// rules between keys). The guardian is on unless the file says pulse.guardian.enabled =
// false, which is refused (pulse-guardian exists to run it).
Result<GuardianConfig> parse_guardian_config(std::string_view text, std::string_view source);
// The file's text, parsed; an unreadable file is an error naming it.
Result<GuardianConfig> load_guardian_config(const std::string& path);

}  // namespace pulse::tools
