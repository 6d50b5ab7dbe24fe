#pragma once
// The guardian's settings from `key = value` pairs: pulsed's config file (app/config.cc) and,
// later, pulse-guardian's --config read the same keys through this one reader.
//
// Keys (seconds and message counts; guardian/README.md has the table):
//   pulse.guardian.enabled, .interval, .warn_queue_size, .delete_queue_size,
//   .idle_queue_expiry, .max_connection_age,
//   pulse.guardian.owners.<owner>.warn_queue_size / .delete_queue_size (the owner may contain
//     dots: the setting is the last segment),
//   pulse.guardian.unbounded.<name> = <queue>, with pulse.guardian.unbounded.<name>.vhost =
//     <vhost> (default "/"). The queue name is the whole value, so any name works, '/' and
//     '|' included; <name> only groups the two keys of one entry.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "pulse/guardian/settings.h"

namespace pulse::guardian {

inline constexpr std::string_view kSettingsPrefix = "pulse.guardian.";

class SettingsReader {
 public:
  // One key; a later value of the same key replaces the earlier one. Errors name the key:
  //   unknown key 'pulse.guardian.intervall' (the guardian's keys are ...)
  //   invalid value 'ten' for key 'pulse.guardian.interval': expected a number of seconds
  Status apply(std::string_view key, std::string_view value);

  // The settings read so far (the defaults for keys never given), the unbounded entries put
  // together, and validate()d as a whole.
  Result<GuardianSettings> finish() const;

 private:
  struct UnboundedEntry {
    std::optional<std::string> queue;
    std::string vhost = "/";
  };
  GuardianSettings settings_;
  std::map<std::string, UnboundedEntry, std::less<>> unbounded_;
};

}  // namespace pulse::guardian
