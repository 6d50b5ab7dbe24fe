#include <charconv>

#include "commands.h"
#include "exit_codes.h"

namespace pulse::ctl {

namespace {

// Integers and decimals become JSON numbers (x-max-length must be a number), true/false
// booleans; anything else stays a string.
json infer(const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  const char* end = v.data() + v.size();
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), end, n);
  if (!v.empty() && ec == std::errc() && p == end) return n;
  json d = json::parse(v, nullptr, false);
  if (d.is_number_float()) return d;
  return v;
}

}  // namespace

Result<json> parse_args(const std::vector<std::string>& items, const std::string& option) {
  json out = json::object();
  for (const auto& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || (eq == 1 && item[0] == ':')) {
      return Error{kExitUsage, option + " " + item + ": expected KEY=VALUE or KEY:=JSON"};
    }
    if (item[eq - 1] == ':') {
      json v = json::parse(item.substr(eq + 1), nullptr, false);
      if (v.is_discarded()) {
        return Error{kExitUsage, option + " " + item + ": the value after := is not JSON"};
      }
      out[item.substr(0, eq - 1)] = std::move(v);
    } else {
      out[item.substr(0, eq)] = infer(item.substr(eq + 1));
    }
  }
  return out;
}

}  // namespace pulse::ctl
