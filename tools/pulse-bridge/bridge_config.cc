#include "bridge_config.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "base/config_lines.h"
#include "base/url.h"
#include "mgmt/http_client.h"

namespace pulse::bridge {
namespace {

constexpr std::string_view kPrefix = "pulse.bridge.";
constexpr std::string_view kSources = "pulse.bridge.sources.";

bool valid_source_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

Result<SourceType> parse_type(std::string_view v) {
  if (v == "github") return SourceType::kGithub;
  if (v == "publish") return SourceType::kPublish;
  if (v == "bugzilla") return SourceType::kBugzilla;
  if (v == "json_feed") return SourceType::kJsonFeed;
  if (v == "hg_pushlog") return SourceType::kHgPushlog;
  return Error{0, "unknown source type '" + std::string(v) +
                      "' (github, publish, bugzilla, json_feed, hg_pushlog)"};
}

// Seconds, a decimal number (0.5 is half a second), at least `min_ms`.
Result<std::chrono::milliseconds> parse_seconds(std::string_view v, double min_s) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc{} || p != v.data() + v.size() || !std::isfinite(d) || d < min_s ||
      d > 86400 * 7) {
    return Error{0, "expected a number of seconds from " + std::to_string(min_s).substr(0, 4) +
                        " to 604800, got '" + std::string(v) + "'"};
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(d * 1000)));
}

Result<int64_t> parse_int(std::string_view v, int64_t min, int64_t max) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || p != v.data() + v.size() || n < min || n > max) {
    return Error{0, "expected an integer from " + std::to_string(min) + " to " +
                        std::to_string(max) + ", got '" + std::string(v) + "'"};
  }
  return n;
}

std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : std::string(v) + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t') {
      cur += c;
    }
  }
  return out;
}

struct Pending {
  SourceConfig cfg;
  size_t first_line = 0;
  bool has_type = false;
  bool has_secret = false;
  std::string secret_env;
};

Status apply_source_key(Pending& p, const std::string& key, const std::string& value,
                        const EnvLookup& env) {
  SourceConfig& s = p.cfg;
  auto seconds = [&](std::chrono::milliseconds& out, double min) -> Status {
    auto r = parse_seconds(value, min);
    if (!r) return std::move(r).error();
    out = *r;
    return {};
  };
  auto boolean = [&](bool& out) -> Status {
    std::string why = parse_config_bool(value, out);
    if (!why.empty()) return Error{0, why};
    return {};
  };
  if (key == "type") {
    auto t = parse_type(value);
    if (!t) return std::move(t).error();
    s.type = *t;
    p.has_type = true;
  } else if (key == "exchange") {
    if (value.empty() || value.size() > 255) return Error{0, "expected an exchange name"};
    s.exchange = value;
  } else if (key == "secret") {
    if (p.has_secret) return Error{0, "secret given twice (secret and secret_env)"};
    s.secret = value;
    p.has_secret = true;
  } else if (key == "secret_env") {
    if (p.has_secret) return Error{0, "secret given twice (secret and secret_env)"};
    const char* v = env ? env(value) : nullptr;
    if (!v || !*v) return Error{0, "environment variable '" + value + "' is not set or empty"};
    s.secret = v;
    p.has_secret = true;
    p.secret_env = value;
  } else if (key == "url") {
    auto u = mgmt::parse_url(value);
    if (!u) return Error{0, u.error().text};
    s.url = value;
  } else if (key == "interval") {
    return seconds(s.interval, 0.1);
  } else if (key == "max_backoff") {
    return seconds(s.max_backoff, 0.1);
  } else if (key == "timeout") {
    return seconds(s.timeout, 0.1);
  } else if (key == "id_field") {
    if (value.empty()) return Error{0, "expected a field name"};
    s.id_field = value;
  } else if (key == "items_field") {
    s.items_field = value;
  } else if (key == "routing_key") {
    if (value.empty() || value.find("..") != std::string::npos || value.size() > 255)
      return Error{0, "routing key '" + value + "' is empty, has '..' or is over 255 bytes"};
    s.routing_key = value;
  } else if (key == "reverse") {
    return boolean(s.reverse);
  } else if (key == "full") {
    return boolean(s.full);
  } else if (key == "start_id") {
    auto n = parse_int(value, -1, INT64_MAX / 2);
    if (!n) return std::move(n).error();
    s.start_id = *n;
  } else if (key == "batch") {
    auto n = parse_int(value, 1, 10000);
    if (!n) return std::move(n).error();
    s.batch = static_cast<uint32_t>(*n);
  } else if (key == "events") {
    s.events = split_list(value);
    if (s.events.empty()) return Error{0, "expected event names (or *)"};
  } else if (key == "max_body") {
    auto n = parse_int(value, 1, 25 * 1024 * 1024);
    if (!n) return std::move(n).error();
    s.max_body = static_cast<size_t>(*n);
  } else {
    return Error{0, "unknown key '" + key + "'"};
  }
  return {};
}

// Rules between a source's keys.
Status check_source(const Pending& p) {
  const SourceConfig& s = p.cfg;
  const std::string where = "source '" + s.name + "': ";
  if (!p.has_type) return Error{0, where + "no type (pulse.bridge.sources." + s.name + ".type)"};
  const bool poller = is_poller(s.type);
  if (poller && s.url.empty())
    return Error{0, where + "a " + std::string(type_name(s.type)) + " source needs a url"};
  if (!poller && !s.url.empty())
    return Error{0, where + "url is for json_feed and hg_pushlog sources"};
  if (!poller && !p.has_secret)
    return Error{0, where + "a " + std::string(type_name(s.type)) +
                        " source needs a secret (secret or secret_env): nothing is accepted "
                        "unauthenticated"};
  if (poller && p.has_secret) return Error{0, where + "pollers take no secret"};
  return {};
}

}  // namespace

std::string_view type_name(SourceType t) {
  switch (t) {
    case SourceType::kGithub:
      return "github";
    case SourceType::kPublish:
      return "publish";
    case SourceType::kBugzilla:
      return "bugzilla";
    case SourceType::kJsonFeed:
      return "json_feed";
    case SourceType::kHgPushlog:
      return "hg_pushlog";
  }
  return "?";
}

const SourceConfig* BridgeConfig::find(std::string_view name) const {
  for (const auto& s : sources)
    if (s.name == name) return &s;
  return nullptr;
}

bool BridgeConfig::has_pollers() const {
  for (const auto& s : sources)
    if (is_poller(s.type)) return true;
  return false;
}

bool BridgeConfig::has_ingress() const {
  for (const auto& s : sources)
    if (!is_poller(s.type)) return true;
  return false;
}

Result<BridgeConfig> parse_bridge_config(std::string_view text, std::string_view source,
                                         const EnvLookup& env) {
  auto lines = split_config_lines(text, source);
  if (!lines) return std::move(lines).error();
  BridgeConfig cfg;
  std::map<std::string, Pending> pending;
  std::vector<std::string> order;
  for (const ConfigLine& l : *lines) {
    Status st;
    if (!l.key.starts_with(kPrefix)) {
      st = Error{0, "unknown key '" + l.key + "': pulse-bridge reads only pulse.bridge.* keys"};
    } else if (l.key.starts_with(kSources)) {
      std::string rest = l.key.substr(kSources.size());
      auto dot = rest.find('.');
      std::string name = rest.substr(0, dot);
      if (dot == std::string::npos || !valid_source_name(name)) {
        st = Error{0, "'" + l.key +
                          "': expected pulse.bridge.sources.<name>.<key>, a name of letters, "
                          "digits, '-' and '_'"};
      } else {
        auto [it, fresh] = pending.try_emplace(name);
        if (fresh) {
          it->second.cfg.name = name;
          it->second.first_line = l.line;
          order.push_back(name);
        }
        st = apply_source_key(it->second, rest.substr(dot + 1), l.value, env);
        if (!st) st = Error{0, "'" + l.key + "': " + st.error().text};
      }
    } else if (l.key == "pulse.bridge.listen") {
      auto hp = parse_host_port(l.value);
      if (!hp) st = Error{0, "pulse.bridge.listen: '" + l.value + "' is not HOST:PORT"};
      cfg.listen = l.value;
    } else if (l.key == "pulse.bridge.state_dir") {
      if (l.value.empty()) st = Error{0, "pulse.bridge.state_dir: expected a directory"};
      cfg.state_dir = l.value;
    } else if (l.key == "pulse.bridge.declare_exchanges") {
      std::string why = parse_config_bool(l.value, cfg.declare_exchanges);
      if (!why.empty()) st = Error{0, "pulse.bridge.declare_exchanges: " + why};
    } else if (l.key == "pulse.bridge.publish_deadline") {
      auto r = parse_seconds(l.value, 1);
      if (!r)
        st = Error{0, "pulse.bridge.publish_deadline: " + r.error().text};
      else
        cfg.publish_deadline = *r;
    } else {
      st = Error{0, "unknown key '" + l.key + "'"};
    }
    if (!st) return config_line_error(source, l.line, st.error().text);
  }
  for (const auto& name : order) {
    const Pending& p = pending.at(name);
    if (auto st = check_source(p); !st)
      return config_line_error(source, p.first_line, st.error().text);
    cfg.sources.push_back(p.cfg);
  }
  if (cfg.sources.empty())
    return Error{0, std::string(source) + ": no sources (pulse.bridge.sources.<name>.type = ...)"};
  return cfg;
}

Result<BridgeConfig> load_bridge_config(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{0, "cannot read config file '" + path + "'"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{0, "cannot read config file '" + path + "'"};
  return parse_bridge_config(ss.str(), path, env);
}

std::string default_exchange(const SourceConfig& s, std::string_view amqp_user) {
  if (!s.exchange.empty()) return s.exchange;
  const std::string u(amqp_user.empty() ? "bridge" : amqp_user);
  switch (s.type) {
    case SourceType::kGithub:
      return "exchange/" + u + "/github";
    case SourceType::kBugzilla:
      return "exchange/" + u + "/bugzilla";
    case SourceType::kHgPushlog:
      return "exchange/hgpushes/v2";
    case SourceType::kPublish:
    case SourceType::kJsonFeed:
      break;
  }
  return "exchange/" + u + "/" + s.name;
}

}  // namespace pulse::bridge
