#pragma once
// pulsetranslator's tables (messageparams.py): known platforms and the test OS names each may
// run, ignored platforms, accepted build tags, and the helpers that use them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::translator {

struct PlatformEntry {
  std::string_view platform;
  std::vector<std::string_view> oses;
};

// In messageparams.py's order.
const std::vector<PlatformEntry>& known_platforms();
const PlatformEntry* find_platform(std::string_view platform);
bool ignored_platform(std::string_view platform);
bool known_tag(std::string_view tag);

// A platform guessed from the routing key: the reverse-sorted platform names first, then the
// OS names (in table order; Python 2's dict order was arbitrary there).
std::optional<std::string> guess_platform(std::string_view key);

// The test OS for a routing-key OS part: fixed renames, or (macosx, macosx64, win32) read
// from the builder name ("OS X 10.6" -> snowleopard, ...). nullopt: keep the part as it is.
std::optional<std::string> convert_os(std::string_view os_part, std::string_view buildername);

// stage_platform with its build type cut off ("linux64-pgo" -> "linux64"), Python slicing
// included (a type at position 0 cuts the last character).
std::string strip_buildtype(std::string stage_platform);

// buildid (YYYYMMDDhhmmss, read as UTC) -> seconds since the epoch.
std::optional<int64_t> buildid_epoch(std::string_view buildid);

}  // namespace pulse::translator
