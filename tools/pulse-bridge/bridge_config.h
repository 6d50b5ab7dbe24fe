#pragma once
// pulse-bridge's --config: pulsed's config syntax (base/config_lines.h), pulse.bridge.* keys
// only. Each source is a group of keys `pulse.bridge.sources.<name>.<key>`; its name appears in
// URLs (/hooks/<name>), metrics and logs. Every other key, a misspelt one, a bad value or a
// missing required key is refused naming file, line and key (README.md lists the keys).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse::bridge {

enum class SourceType { kGithub, kPublish, kBugzilla, kJsonFeed, kHgPushlog };

std::string_view type_name(SourceType t);
// Webhook-style sources are answered by the HTTP listener; feeds are polled.
inline bool is_poller(SourceType t) {
  return t == SourceType::kJsonFeed || t == SourceType::kHgPushlog;
}

struct SourceConfig {
  std::string name;
  SourceType type = SourceType::kPublish;
  // Where its messages go. Empty: the type's default, resolved once the AMQP user is known
  // (default_exchange()).
  std::string exchange;
  // github: the webhook's HMAC key; publish and bugzilla: the bearer token. From `secret`, or
  // from the environment variable `secret_env` names (the service's env file).
  std::string secret;
  // Pollers.
  std::string url;
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds max_backoff{300000};
  std::chrono::milliseconds timeout{30000};  // each step of one HTTP request
  // json_feed
  std::string id_field = "id";
  std::string items_field;  // "": the body is the array, or its "items" member
  std::string routing_key;  // json_feed: the key of every item (default: the source's name)
  bool reverse = false;     // json_feed: publish the feed's items last to first
  // hg_pushlog
  int64_t start_id = -1;  // -1: from the newest push at the first poll
  uint32_t batch = 100;   // pushes per request (endID = startID + batch)
  bool full = false;      // fetch with full=1 and add the changesets to pushlog_pushes
  // github: event types published besides push ("*": every one); others are acknowledged
  // and not published.
  std::vector<std::string> events{"*"};
  // publish / bugzilla / github: the largest body accepted.
  size_t max_body = 1024 * 1024;
};

struct BridgeConfig {
  std::string listen;     // HOST:PORT, "" = none (--listen wins)
  std::string state_dir;  // pollers' cursors (--state-dir wins)
  bool declare_exchanges = true;
  std::chrono::milliseconds publish_deadline{10000};
  std::vector<SourceConfig> sources;

  const SourceConfig* find(std::string_view name) const;
  bool has_pollers() const;
  bool has_ingress() const;
};

// Looks an environment variable up (std::getenv in the program; a map in tests). nullptr: unset.
using EnvLookup = std::function<const char*(const std::string&)>;

Result<BridgeConfig> parse_bridge_config(std::string_view text, std::string_view source,
                                         const EnvLookup& env);
Result<BridgeConfig> load_bridge_config(const std::string& path, const EnvLookup& env);

// `exchange/<user>/<what>` for github (github), bugzilla (bugzilla), publish and json_feed
// (the source's name); exchange/hgpushes/v2 for hg_pushlog, as hg.mozilla.org publishes.
std::string default_exchange(const SourceConfig& s, std::string_view amqp_user);

}  // namespace pulse::bridge
