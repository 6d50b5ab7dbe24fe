#pragma once
// The management API connection flags of pulsectl and pulse-guardian, defined once so that both
// read the same options and environment variables: --url, -u/--user, -p/--password ('-' reads
// it from stdin), --cacert and the other TLS options, --timeout; env PULSECTL_URL,
// PULSECTL_USER, PULSECTL_PASSWORD, PULSECTL_CACERT (a flag wins over its variable).
#include <CLI/CLI.hpp>
#include <chrono>
#include <string>

#include "mgmt/http_tls.h"

namespace pulse::tools {

struct MgmtOptions {
  std::string url = "http://127.0.0.1:15672";
  std::string user = "guest";
  std::string password = "guest";
  mgmt::TlsSettings tls;  // for https:// URLs
  double timeout_s = 30;  // per step of a request

  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  }
};

// Adds the options to `app`, each writing into `o` (whose values are the shown defaults).
void add_mgmt_options(CLI::App& app, MgmtOptions& o);

// For --help footers.
inline constexpr const char* kMgmtEnvironment =
    "Environment: PULSECTL_URL, PULSECTL_USER, PULSECTL_PASSWORD, PULSECTL_CACERT.";

// A secret given as "-" is read from the first line of standard input, so it stays out of
// `ps`; any other value is returned as it is.
std::string read_secret(const std::string& value);

}  // namespace pulse::tools
