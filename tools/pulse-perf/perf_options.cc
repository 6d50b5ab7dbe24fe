#include "perf_options.h"

#include <charconv>

namespace pulse::perf {

Result<amqp::FieldTable> parse_queue_args(const std::vector<std::string>& items) {
  amqp::FieldTable t;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      if (comma == std::string::npos) comma = item.size();
      std::string kv = item.substr(start, comma - start);
      start = comma + 1;
      if (kv.empty()) continue;
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Error{0, "--queue-args: expected key=value, got '" + kv + "'"};
      }
      std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
      int64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && p == value.data() + value.size() && !value.empty()) {
        amqp::set(t, key, n);
      } else if (value == "true" || value == "false") {
        amqp::set(t, key, value == "true");
      } else {
        amqp::set(t, key, value);
      }
    }
  }
  return t;
}

}  // namespace pulse::perf
