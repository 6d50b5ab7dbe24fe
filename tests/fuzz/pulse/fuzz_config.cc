// pulsed's configuration (src/app/config.h parse_config) and the line and value parsers under
// it (src/base/config_lines.h). The first input byte picks the parser; the rest is its text.
//
// Checks, besides no crash: a refusal names the source; parsing is deterministic (a second
// parse of an accepted file holds the same settings and diff_settings finds no change), and
// every line split_config_lines returns has a key.
#include <cstdint>
#include <string>
#include <string_view>

#include "app/config.h"
#include "base/config_lines.h"
#include "fuzz_check.h"

namespace {

using pulse::fuzz::check;

void whole_file(std::string_view text) {
  auto cfg = pulse::app::parse_config(text, "fuzz.conf");
  if (!cfg) {
    check(cfg.error().text.find("fuzz.conf") != std::string::npos, "a refusal names the file");
    return;
  }
  auto again = pulse::app::parse_config(text, "fuzz.conf");
  check(again.ok(), "an accepted file is accepted again");
  check(again->settings == cfg->settings, "the same settings");
  auto diff = pulse::app::diff_settings(*cfg, *again);
  check(diff.reloadable.empty() && diff.need_restart.empty(), "no change between two parses");
  pulse::app::Config defaults;
  auto from_defaults = pulse::app::diff_settings(defaults, *cfg);
  check(from_defaults.reloadable.size() + from_defaults.need_restart.size() <= cfg->settings.size(),
        "a diff lists only keys that were set");
  for (const auto& key : from_defaults.reloadable)
    check(pulse::app::reloadable_key(key), "reloadable keys are reloadable");
}

void lines(std::string_view text) {
  auto got = pulse::split_config_lines(text, "fuzz.conf");
  if (!got) return;
  size_t last = 0;
  for (const auto& l : *got) {
    check(!l.key.empty(), "every line has a key");
    check(l.line > last, "lines in order");
    last = l.line;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      whole_file(text);
      break;
    case 1:
      lines(text);
      break;
    case 2:
      (void)pulse::app::parse_information_unit(text);
      break;
    case 3:
      (void)pulse::app::parse_listener(text);
      break;
    case 4: {
      bool b = false;
      std::string e = pulse::parse_config_bool(text, b);
      check(e.empty() == (text == "true" || text == "false"), "booleans are true or false");
      break;
    }
  }
  return 0;
}
