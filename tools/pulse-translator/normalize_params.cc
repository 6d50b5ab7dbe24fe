#include "normalize_params.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace pulse::translator {

const std::vector<PlatformEntry>& known_platforms() {
  static const std::vector<PlatformEntry> table = {
      {"emulator", {"emulator", "ubuntu64_vm-b2g-emulator"}},
      {"emulator-kk", {"emulator-kk"}},
      {"emulator-jb", {"emulator-jb"}},
      {"linux64-asan", {"linux64-asan", "ubuntu64-asan_vm", "ubuntu64-asan_vm_lnx_large"}},
      {"linux32_gecko", {"linux32_gecko", "ubuntu32_vm-b2gdt"}},
      {"linux64_gecko", {"linux64_gecko", "ubuntu64_vm-b2gdt"}},
      {"linux64-rpm", {"fedora64"}},
      {"linux64", {"fedora64", "ubuntu64", "ubuntu64_hw", "ubuntu64_vm", "ubuntu64_vm_lnx_large"}},
      {"linux64-mulet", {"linux64-mulet", "ubuntu64_vm-mulet"}},
      {"linuxqt", {"fedora"}},
      {"linux-rpm", {"fedora"}},
      {"linux", {"fedora", "linux", "ubuntu32", "ubuntu32_vm", "ubuntu32_hw"}},
      {"win32",
       {"xp", "xp_ix", "win7", "win8", "win7-ix", "xp-ix", "win7_ix", "win7_vm", "win7_vm_gfx"}},
      {"win32_gecko", {"win32_gecko"}},
      {"win32-mulet", {"win32-mulet"}},
      {"win64", {"w764", "win8_64"}},
      {"macosx64", {"macosx64", "snowleopard", "leopard", "lion", "mountainlion", "yosemite"}},
      {"macosx64_gecko", {"macosx64_gecko", "mountainlion-b2gdt"}},
      {"macosx64-mulet", {"macosx64-mulet"}},
      {"macosx", {"macosx", "leopard"}},
      {"android-armv6", {"ubuntu64_vm_armv6_mobile", "ubuntu64_vm_armv6_large"}},
      {"android-x86", {"android-x86", "ubuntu64_hw"}},
      {"android", {"panda_android", "ubuntu64_vm_mobile", "ubuntu64_vm_large"}},
      {"android-api-9", {"ubuntu64_vm_mobile", "ubuntu64_vm_large"}},
      {"android-api-10", {"panda_android"}},
      {"android-api-11", {"panda_android", "ubuntu64_vm_armv7_large", "ubuntu64_vm_armv7_mobile"}},
      {"ics_armv7a_gecko", {"ubuntu64-b2g"}},
  };
  return table;
}

const PlatformEntry* find_platform(std::string_view platform) {
  for (const auto& e : known_platforms()) {
    if (e.platform == platform) return &e;
  }
  return nullptr;
}

bool ignored_platform(std::string_view platform) {
  static constexpr std::string_view kIgnored[] = {
      "dolphin",      "dolphin_eng",     "dolphin-512",   "emulator-l",     "flame-kk",
      "flame-kk_eng", "linux64-b2g-haz", "linux64-st-an", "macosx64-st-an", "nexus-4",
      "nexus-4_eng",  "nexus-5-l",       "nexus-5-l_eng"};
  return std::find(std::begin(kIgnored), std::end(kIgnored), platform) != std::end(kIgnored);
}

bool known_tag(std::string_view tag) {
  static constexpr std::string_view kTags[] = {
      "",           "build",          "dep",          "dtrace",
      "l10n",       "nightly",        "nomethodjit",  "notracejit",
      "release",    "shark",          "spidermonkey", "valgrind",
      "warnaserr",  "warnaserrdebug", "xulrunner",    "arm",
      "compacting", "plain",          "plaindebug",   "rootanalysis",
      "sim"};
  return std::find(std::begin(kTags), std::end(kTags), tag) != std::end(kTags);
}

std::optional<std::string> guess_platform(std::string_view key) {
  std::vector<std::string_view> names;
  for (const auto& e : known_platforms()) names.push_back(e.platform);
  std::sort(names.begin(), names.end(), std::greater<>());
  for (auto n : names) {
    if (key.find(n) != std::string_view::npos) return std::string(n);
  }
  for (const auto& e : known_platforms()) {
    for (auto os : e.oses) {
      if (key.find(os) != std::string_view::npos) return std::string(os);
    }
  }
  return std::nullopt;
}

std::optional<std::string> convert_os(std::string_view os_part, std::string_view buildername) {
  if (os_part == "leopard-o") return "leopard";
  if (os_part == "yosemite_r7") return "yosemite";
  if (os_part == "tegra_android-o") return "tegra_android";
  if (os_part != "macosx" && os_part != "macosx64" && os_part != "win32") return std::nullopt;
  // Unescaped dots as in the original patterns: "10.5" also matches "1015".
  static const RE2 k105("(?i)OS\\s*X\\s*10.5"), k106("(?i)OS\\s*X\\s*10.6"),
      k107("(?i)OS\\s*X\\s*10.7"), k108("(?i)OS\\s*X\\s*10.8"), kXp("(?i)WINNT\\s*5.2");
  const re2::StringPiece name(buildername.data(), buildername.size());
  if (RE2::PartialMatch(name, k105)) return "leopard";
  if (RE2::PartialMatch(name, k106)) return "snowleopard";
  if (RE2::PartialMatch(name, k107)) return "lion";
  if (RE2::PartialMatch(name, k108)) return "mountainlion";
  if (RE2::PartialMatch(name, kXp)) return "xp";
  return "unknown";
}

std::string strip_buildtype(std::string sp) {
  for (std::string_view type : {"opt", "debug", "pgo"}) {
    auto at = sp.find(type);
    if (at == std::string::npos) continue;
    // Python's sp[0:at - 1]: at == 0 gives sp[0:-1].
    size_t end = at == 0 ? (sp.empty() ? 0 : sp.size() - 1) : at - 1;
    sp.resize(end);
  }
  return sp;
}

std::optional<int64_t> buildid_epoch(std::string_view id) {
  if (id.size() != 14 ||
      !std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  auto num = [&](size_t at, size_t n) { return std::stoi(std::string(id.substr(at, n))); };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(8, 2);
  tm.tm_min = num(10, 2);
  tm.tm_sec = num(12, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace pulse::translator
