#include "pulse_args.h"

#include <algorithm>
#include <ctime>
#include <regex>

#include "base/url.h"
#include "exit_codes.h"

namespace pulse::ctl {

using nlohmann::json;

namespace {

// What the server takes (src/pulse/api: kMaxSeconds); a larger number would only come back as
// a 400.
constexpr uint64_t kMaxSeconds = 10ull * 365 * 24 * 3600;

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 19 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const std::vector<std::string> kSecondsKeys = {"interval", "idle_queue_expiry",
                                               "max_connection_age"};
const std::vector<std::string> kCountKeys = {"warn_queue_size", "delete_queue_size"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const std::vector<std::string> kGuardianSettingKeys = {
    "interval", "warn_queue_size", "delete_queue_size", "idle_queue_expiry", "max_connection_age"};

std::string pulse_path(std::initializer_list<std::string> segments) {
  std::string out = "/api/pulse";
  for (const auto& s : segments) out += "/" + percent_encode(s);
  return out;
}

Result<uint64_t> parse_seconds(const std::string& text, const std::string& what) {
  auto bad = [&] {
    return Error{kExitUsage, what + " '" + text +
                                 "': expected seconds or a duration such as 30s, 5m, 12h, "
                                 "7d, 2w, 1d12h"};
  };
  if (all_digits(text)) {
    const uint64_t n = std::stoull(text);
    if (n > kMaxSeconds) return Error{kExitUsage, what + " '" + text + "' is over 10 years"};
    return n;
  }
  uint64_t total = 0;
  size_t i = 0;
  std::string units_seen;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j == text.size() || j - i > 9) return bad();
    const char unit = text[j];
    uint64_t scale = 0;
    switch (unit) {
      case 's':
        scale = 1;
        break;
      case 'm':
        scale = 60;
        break;
      case 'h':
        scale = 3600;
        break;
      case 'd':
        scale = 86400;
        break;
      case 'w':
        scale = 7 * 86400;
        break;
      default:
        return bad();
    }
    // "5m5m" is a slip, not 10 minutes.
    if (units_seen.find(unit) != std::string::npos) return bad();
    units_seen.push_back(unit);
    total += std::stoull(text.substr(i, j - i)) * scale;
    if (total > kMaxSeconds) return Error{kExitUsage, what + " '" + text + "' is over 10 years"};
    i = j + 1;
  }
  if (text.empty()) return bad();
  return total;
}

Result<std::string> parse_expires(const std::string& text,
                                  std::chrono::system_clock::time_point now) {
  if (!text.empty() && text[0] == '+') {
    auto secs = parse_seconds(text.substr(1), "--expires");
    if (!secs) return std::move(secs).error();
    if (*secs == 0) return Error{kExitUsage, "--expires '" + text + "' is not in the future"};
    return format_utc(now + std::chrono::seconds(*secs));
  }
  static const std::regex kRfc3339(
      R"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))");
  if (!std::regex_match(text, kRfc3339)) {
    return Error{kExitUsage, "--expires '" + text +
                                 "': expected an RFC 3339 time (2027-01-15T08:00:00Z) or "
                                 "+DURATION from now (+7d, +12h)"};
  }
  return text;
}

Result<json> parse_guardian_settings(const std::vector<std::string>& items) {
  if (items.empty()) {
    return Error{kExitUsage, "guardian set: give at least one KEY=VALUE"};
  }
  json out = json::object();
  std::string keys;
  for (const auto& k : kGuardianSettingKeys) keys += (keys.empty() ? "" : ", ") + k;
  for (const auto& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error{kExitUsage, "guardian set " + item + ": expected KEY=VALUE (KEY: " + keys +
                                   "; VALUE 'default' for the configured value)"};
    }
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!contains(kGuardianSettingKeys, key)) {
      return Error{kExitUsage,
                   "guardian set: unknown setting '" + key + "' (settings: " + keys + ")"};
    }
    if (out.contains(key)) return Error{kExitUsage, "guardian set: '" + key + "' given twice"};
    if (value == "default") {
      out[key] = nullptr;
    } else if (contains(kSecondsKeys, key)) {
      auto secs = parse_seconds(value, key);
      if (!secs) return std::move(secs).error();
      out[key] = *secs;
    } else if (all_digits(value)) {
      out[key] = std::stoull(value);
    } else {
      return Error{kExitUsage,
                   key + " '" + value + "': expected a number of messages or 'default'"};
    }
  }
  return out;
}

Result<json> subscription_body(const PulseCommand& cmd) {
  json body = {{"exchange", cmd.exchange}, {"callback", cmd.callback}, {"secret", cmd.secret}};
  if (cmd.topic) body["topic"] = *cmd.topic;
  if (cmd.vhost) body["vhost"] = *cmd.vhost;
  if (cmd.user) body["user"] = *cmd.user;
  if (cmd.lease) {
    auto secs = parse_seconds(*cmd.lease, "--lease");
    if (!secs) return std::move(secs).error();
    body["lease_seconds"] = *secs;
  }
  return body;
}

std::string notices_query(std::optional<uint64_t> after, const std::optional<std::string>& owner,
                          std::optional<uint64_t> limit) {
  std::string q;
  auto add = [&](const std::string& kv) { q += (q.empty() ? "?" : "&") + kv; };
  if (after) add("after=" + std::to_string(*after));
  if (owner) add("owner=" + percent_encode(*owner));
  if (limit) add("limit=" + std::to_string(*limit));
  return q;
}

}  // namespace pulse::ctl
