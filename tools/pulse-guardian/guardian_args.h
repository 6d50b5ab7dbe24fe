#pragma once
// pulse-guardian's command line (README.md): the management API connection flags shared with
// pulsectl (tools/pulse-common/mgmt_options.h), --config, --amqp-url, --once, --log-level, and
// the listener (the admin UI, /api/pulse, RabbitMQ's API passed on): --listen, --listen-cert,
// --listen-key, --state-file, --web-dir.
#include <string>
#include <vector>

#include "base/result.h"
#include "cli.h"
#include "client/options.h"
#include "mgmt_options.h"

namespace pulse::tools {

// Exit statuses (pulsectl's where they mean the same).
inline constexpr int kGuardianExitPollFailed = 1;    // --once: the broker refused or failed
inline constexpr int kGuardianExitUnreachable = 69;  // --once: no answer from --url
inline constexpr int kGuardianExitAuth = 77;         // --once: login refused (HTTP 401)

inline constexpr const char* kAmqpNone = "none";

struct GuardianArgs {
  MgmtOptions mgmt;
  std::string config;    // empty: no file, the defaults
  std::string amqp_url;  // empty: derived from --url; "none": notices are not published
  bool once = false;
  std::string log_level = "info";
  // /api/pulse (README.md): off while `listen` is empty.
  std::string listen;       // HOST:PORT as given
  std::string listen_host;  // parsed from `listen`
  uint16_t listen_port = 0;
  std::string listen_cert, listen_key;  // both or neither: HTTPS
  std::string state_file;               // required with --listen
  std::string web_dir;                  // the admin UI's files; empty: the default search
};

// A port for --listen nothing else claims by default (RabbitMQ's management is 15672).
inline constexpr uint16_t kSuggestedListenPort = 15680;

Parsed<GuardianArgs> parse_guardian_args(int argc, const char* const* argv);

// Where notices are published: --amqp-url (a URI or a list, as pulse-publish's --uri), else
// --url's host with --url's user and password on vhost "/": amqp:// port 5672 for an http://
// URL, amqps:// port 5671 (verified against --cacert, else the system's CAs) for https://.
// Empty for "none". Called once the password is known (-p - reads it from stdin).
Result<std::vector<client::ConnectionOptions>> notice_endpoints(const GuardianArgs& args);

// The endpoints as a user would write them (credentials left out), for log lines.
std::string describe_endpoints(const std::vector<client::ConnectionOptions>& endpoints);

}  // namespace pulse::tools
