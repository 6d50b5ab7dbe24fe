#include "pulse/accounts/settings.h"

#include <cctype>
#include <charconv>

#include "base/url.h"

namespace pulse::accounts {

namespace {

std::vector<std::string> split(std::string_view value, std::string_view separators) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : value) {
    if (separators.find(c) != std::string_view::npos) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

struct UrlParts {
  std::string scheme;  // "amqp://" or "amqps://"
  std::string host;    // host[:port]
  std::string path;    // "" or "/..."
  std::string query;   // "" or "?..."
};

Result<UrlParts> split_url(std::string_view url) {
  UrlParts p;
  for (std::string_view scheme : {"amqps://", "amqp://"}) {
    if (url.starts_with(scheme)) {
      p.scheme = std::string(scheme);
      break;
    }
  }
  if (p.scheme.empty()) return Error{400, "it must start with amqp:// or amqps://"};
  std::string_view rest = url.substr(p.scheme.size());
  const size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    p.query = std::string(rest.substr(q));
    rest = rest.substr(0, q);
  }
  const size_t slash = rest.find('/');
  p.host = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) p.path = std::string(rest.substr(slash));
  if (p.host.empty()) return Error{400, "it has no host"};
  if (p.host.find('@') != std::string::npos)
    return Error{400, "it must not carry credentials (claims put them in)"};
  return p;
}

}  // namespace

Status apply_setting(AccountSettings& s, std::string_view key, std::string_view value) {
  const std::string k(key);
  auto refuse = [&](const std::string& why) {
    return Error{400, k + " (" + std::string(value) + "): " + why};
  };
  if (key == "pulse.accounts.reserved_users") {
    auto names = split(value, ", \t");
    s.reserved_users = std::set<std::string>(names.begin(), names.end());
    return {};
  }
  if (key == "pulse.accounts.vhosts") {
    auto names = split(value, ",");
    if (names.empty()) return refuse("at least one vhost is needed");
    s.vhosts = std::move(names);
    return {};
  }
  if (key == "pulse.accounts.rotation_interval") {
    long long secs = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
    if (ec != std::errc() || end != value.data() + value.size())
      return refuse("must be a whole number of seconds");
    if (secs < 60 || secs > 604800) return refuse("must be between 60 and 604800 seconds");
    s.rotation_interval = std::chrono::seconds(secs);
    return {};
  }
  if (key == "pulse.accounts.connection_url") {
    if (auto p = split_url(value); !p) return refuse(p.error().text);
    s.connection_url = std::string(value);
    return {};
  }
  return Error{400, "unknown key '" + k +
                        "' (the accounts' keys are pulse.accounts.reserved_users, vhosts, "
                        "rotation_interval and connection_url)"};
}

Result<std::string> connection_string(const std::string& base, const std::string& vhost,
                                      const std::string& user, const std::string& password) {
  auto p = split_url(base);
  if (!p) return Error{400, "connection_url '" + base + "': " + p.error().text};
  std::string path = p->path;
  if (path.empty() || path == "/") path = "/" + percent_encode(vhost);
  return p->scheme + percent_encode(user) + ":" + percent_encode(password) + "@" + p->host + path +
         p->query;
}

}  // namespace pulse::accounts
