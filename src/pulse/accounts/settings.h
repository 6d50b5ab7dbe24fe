#pragma once
// The account service's settings: `pulse.accounts.*` keys, each validated as it is applied.
#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse::accounts {

struct AccountSettings {
  // Names nobody may take as a Pulse user or namespace (compared as given). The defaults keep
  // the broker's and the service's own accounts and the heartbeat namespace (exchange/pulse/).
  std::set<std::string> reserved_users{"admin", "administrator", "guardian", "guest",
                                       "pulse", "rabbitmq",      "root"};
  // Where Pulse users and claimed namespaces get their permissions.
  std::vector<std::string> vhosts{"/"};
  // How often a claimed namespace's credentials rotate (Taskcluster: hourly).
  std::chrono::seconds rotation_interval{3600};
  // Base of the connection strings claims return: amqp[s]://host[:port][/vhost][?query]. The
  // credentials are put in; without a path the first vhost is added.
  std::string connection_url = "amqps://localhost:5671";
};

// Applies one `pulse.accounts.<name>` key:
//   reserved_users     names separated by commas or spaces ("" for none)
//   vhosts             vhost names separated by commas (at least one)
//   rotation_interval  seconds, 60 .. 604800
//   connection_url     amqp:// or amqps:// URL without credentials
// An unknown key or a bad value is refused with a text naming the key, and changes nothing.
Status apply_setting(AccountSettings& settings, std::string_view key, std::string_view value);

// The connection string for `user`/`password`: `base` (connection_url) with the credentials
// percent-encoded into it, and "/<vhost>" (percent-encoded, so "/" is "%2F") when it has no path.
Result<std::string> connection_string(const std::string& base, const std::string& vhost,
                                      const std::string& user, const std::string& password);

}  // namespace pulse::accounts
