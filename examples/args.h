#pragma once
// The examples' tiny command line: `--name value` pairs and the broker URI list from --uri or
// $PULSE_URI. Kept free of any argument library so the examples build with nothing but the
// installed Pulse client.
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

namespace examples {

struct Args {
  std::map<std::string, std::string> values;

  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  std::string uri() const {
    const char* env = std::getenv("PULSE_URI");
    return get("uri", env && *env ? env : "amqp://guest:guest@127.0.0.1:5672/");
  }
};

// Accepts exactly the option names in `known`; false (after printing `usage`) otherwise.
inline bool parse_args(int argc, char** argv, std::initializer_list<const char*> known,
                       const char* usage, Args& out) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool ok = arg.starts_with("--") && i + 1 < argc;
    if (ok) {
      ok = false;
      for (const char* k : known) ok |= arg.substr(2) == k;
    }
    if (!ok) {
      std::cerr << usage;
      return false;
    }
    out.values[arg.substr(2)] = argv[++i];
  }
  return true;
}

}  // namespace examples
