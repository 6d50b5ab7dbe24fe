#pragma once
// The examples' tiny command line: `--name value` pairs, and the broker URI list from --uri,
// $PULSE_URI or the local default. Free of any argument library so that the examples build
// with nothing but the installed Pulse client.
#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pulse/endpoints.h"

namespace examples {

struct Args {
  std::map<std::string, std::string> values;
  std::vector<pulse::client::ConnectionOptions> endpoints;
  long count = 0;

  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  // A Pulse user may create exchanges only in its own namespace: exchange/<user>/...
  std::string exchange() const {
    return get("exchange", "exchange/" + endpoints.front().user + "/examples");
  }
};

// Accepts the option names in `known` (plus --uri and --count, a number >= 0, default
// `count`). On a usage error prints it with `usage` and returns nullopt (exit status 2).
inline std::optional<Args> parse_args(int argc, char** argv, const char* program,
                                      std::initializer_list<const char*> known, long count,
                                      const char* usage) {
  Args out;
  auto fail = [&](const std::string& why) {
    std::cerr << program << ": " << why << "\nusage: " << program << " " << usage << "\n";
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    bool ok = arg == "--uri" || arg == "--count";
    for (const char* k : known) ok |= arg == std::string("--") + k;
    if (!ok) return fail("unknown option '" + arg + "'");
    if (i + 1 == argc) return fail(arg + " needs a value");
    out.values[arg.substr(2)] = argv[++i];
  }
  const std::string n = out.get("count", std::to_string(count));
  auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), out.count);
  if (ec != std::errc() || end != n.data() + n.size() || out.count < 0) {
    return fail("--count must be a number >= 0");
  }
  const char* env = std::getenv("PULSE_URI");
  auto uris = pulse::parse_uri_list(
      out.get("uri", env && *env ? env : "amqp://guest:guest@127.0.0.1:5672/"));
  if (!uris) return fail(uris.error().text);
  out.endpoints = std::move(*uris);
  return out;
}

}  // namespace examples
