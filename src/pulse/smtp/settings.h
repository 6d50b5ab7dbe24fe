#pragma once
// The `pulse.smtp.*` config keys: where the guardian's notices are mailed (issue 14). No host
// means email is off. Every key and value is checked, unknown keys are refused, and addresses
// are checked strictly enough that none can smuggle a header or a second recipient.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse::smtp {

// none: plain SMTP; starttls: STARTTLS is required (the mail is not sent if the server does
// not offer it); tls: TLS from the first byte ("implicit TLS", SMTPS, port 465).
enum class TlsMode { kNone, kStartTls, kTls };

std::string_view tls_mode_name(TlsMode mode);

struct SmtpSettings {
  std::string host;                           // empty: email is off
  std::optional<int> port;                    // unset: 465 with tls = tls, else 25
  std::string from;                           // envelope sender and From:
  std::map<std::string, std::string> admins;  // pulse.smtp.admins.<n>: every notice
  std::string username;                       // set: AUTH
  std::string password;
  std::optional<TlsMode> tls;  // unset: see effective_tls()
  std::string cacertfile;      // empty: the system's CAs
  bool verify_peer = true;     // pulse.smtp.verify = verify_peer | verify_none
  std::chrono::seconds timeout{30};
  std::string owner_domain;  // set: an owner without a known address gets <owner>@<domain>

  bool enabled() const { return !host.empty(); }
};

// The mode in force: the one set, else `tls` on port 465, `starttls` when a username is set
// (credentials are never sent in clear unless asked for), else `none`.
TlsMode effective_tls(const SmtpSettings& s);
// The port in force: the one set, else 465 for implicit TLS, else 25.
int effective_port(const SmtpSettings& s);
// The admins' addresses, in key order, without duplicates.
std::vector<std::string> admin_addresses(const SmtpSettings& s);

// One config line, `key` in full (`pulse.smtp.host`). Refuses keys outside `pulse.smtp.`,
// unknown keys (naming them) and malformed values; settings that depend on each other are
// left to validate().
Status apply_setting(SmtpSettings& s, std::string_view key, std::string_view value);

// Whole-configuration rules, each refusal naming the keys: from is required with a host; no
// password without a username (nor the reverse); credentials are never sent in clear to
// another machine (tls = none with a username needs a loopback host); port 465 is implicit TLS
// only; cacertfile must be readable and means nothing with tls = none. Settings without a host
// are valid whatever else they hold, except malformed values apply_setting already refused.
Status validate(const SmtpSettings& s);

// An address as this module sends to: `local@domain`, exactly one '@', printable ASCII with no
// space, no control character (CR/LF would inject headers or SMTP commands) and none of
// `<>()[],;:"\`; a domain of letters, digits, '-' and '.' without empty labels. Returns the
// reason it is refused, or nothing.
std::optional<std::string> address_problem(std::string_view address);
// A domain as in the above.
std::optional<std::string> domain_problem(std::string_view domain);

// Whether `host` names this machine (localhost, 127.0.0.0/8, ::1).
bool is_loopback_host(std::string_view host);

}  // namespace pulse::smtp
