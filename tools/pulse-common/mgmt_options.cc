#include "mgmt_options.h"

#include <iostream>

namespace pulse::tools {

void add_mgmt_options(CLI::App& app, MgmtOptions& o) {
  app.add_option("--url", o.url, "management API base URL, http[s]://HOST[:PORT][/PREFIX]")
      ->envname("PULSECTL_URL")
      ->capture_default_str();
  app.add_option("-u,--user", o.user, "user name")->envname("PULSECTL_USER")->capture_default_str();
  app.add_option("-p,--password", o.password, "password ('-': read it from stdin; default guest)")
      ->envname("PULSECTL_PASSWORD");
  app.add_option("--cacert,--ssl-ca-cert-file", o.tls.cacert,
                 "https: PEM file of the CA(s) to trust (default: the system's CAs)")
      ->envname("PULSECTL_CACERT");
  app.add_option("--cert,--ssl-cert-file", o.tls.cert, "https: client certificate (PEM)");
  app.add_option("--key,--ssl-key-file", o.tls.key, "https: the client certificate's key");
  app.add_flag("--ssl-disable-hostname-verification", o.tls.skip_hostname,
               "https: accept a certificate issued for another host (still from a trusted CA)");
  app.add_flag("-k,--insecure,--ssl-insecure", o.tls.insecure,
               "https: no certificate verification at all (testing only)");
  app.add_option("--timeout", o.timeout_s, "seconds to wait for each step of a request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

std::string read_secret(const std::string& value) {
  if (value != "-") return value;
  std::string line;
  std::getline(std::cin, line);
  return line;
}

}  // namespace pulse::tools
