#include "auth/auth_store.h"

#include <re2/re2.h>

#include <algorithm>
#include <tuple>

#include "amqp/generated/constants.h"
#include "auth/erlang_regex.h"

namespace pulse::auth {
namespace {

Error make_error(uint16_t code, std::string msg) {
  return Error{code, std::string(amqp::reply_code_name(code)) + " - " + std::move(msg)};
}

// RabbitMQ turns an empty permission into "^$" (matches only an empty name).
Result<std::unique_ptr<RE2>> compile(std::string_view pattern) {
  auto re = std::make_unique<RE2>(pattern.empty() ? std::string_view("^$") : pattern,
                                  erlang_regex_options());
  if (!re->ok()) {
    return make_error(amqp::kPreconditionFailed,
                      "invalid regular expression '" + std::string(pattern) + "': " + re->error());
  }
  return re;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

constexpr std::string_view kClientIdVar = "{client_id}";

// Same order as RabbitMQ's fold over its variable map (client_id, username, vhost). Values are
// not regex-escaped, as in RabbitMQ.
std::string expand(std::string_view pattern, std::string_view user, std::string_view vhost,
                   std::string_view client_id) {
  std::string out(pattern.empty() ? std::string_view("^$") : pattern);
  if (!client_id.empty()) replace_all(out, kClientIdVar, client_id);
  replace_all(out, "{username}", user);
  replace_all(out, "{vhost}", vhost);
  return out;
}

struct VhostPerms {
  std::string configure_src, write_src, read_src;
  std::unique_ptr<RE2> configure, write, read;
};

struct TopicPattern {
  std::string source;       // as set by the operator
  std::string expanded;     // {username}/{vhost} substituted; {client_id} left in place
  std::unique_ptr<RE2> re;  // compiled `expanded`, used when no client id is given
  bool needs_client_id = false;
};

struct TopicPerms {
  TopicPattern write, read;
};

std::vector<std::string> clean_tags(std::vector<std::string> tags) {
  std::erase_if(tags, [](const std::string& t) { return t.empty(); });
  return tags;
}

Result<TopicPattern> make_topic_pattern(std::string source, std::string_view user,
                                        std::string_view vhost) {
  TopicPattern p;
  p.expanded = expand(source, user, vhost, {});
  p.needs_client_id = p.expanded.find(kClientIdVar) != std::string::npos;
  p.re = std::make_unique<RE2>(p.expanded, erlang_regex_options());
  if (!p.re->ok()) {
    return make_error(amqp::kPreconditionFailed,
                      "invalid regular expression '" + source + "': " + p.re->error());
  }
  p.source = std::move(source);
  return p;
}

bool match_topic(const TopicPattern& p, std::string_view routing_key, std::string_view user,
                 std::string_view vhost, std::string_view client_id) {
  if (!p.needs_client_id || client_id.empty()) return RE2::PartialMatch(routing_key, *p.re);
  // Only MQTT/STOMP-style patterns with {client_id} reach here; the client id varies per
  // connection, so this compiles per check. A client id that breaks the regex denies.
  RE2 re(expand(p.source, user, vhost, client_id), erlang_regex_options());
  return re.ok() && RE2::PartialMatch(routing_key, re);
}

}  // namespace

struct AuthStore::Entry {
  User user;
  std::string raw_hash;  // decoded salt ++ digest, so logins skip base64
  std::unordered_map<std::string, VhostPerms, StringHash, std::equal_to<>> perms;
  // vhost -> exchange -> patterns
  std::unordered_map<std::string,
                     std::unordered_map<std::string, TopicPerms, StringHash, std::equal_to<>>,
                     StringHash, std::equal_to<>>
      topics;
};

bool User::has_tag(std::string_view tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

bool loopback_only(std::string_view user, const std::vector<std::string>& loopback_users) {
  return std::find(loopback_users.begin(), loopback_users.end(), user) != loopback_users.end();
}

AuthStore::AuthStore() = default;
AuthStore::~AuthStore() = default;
AuthStore::AuthStore(AuthStore&&) noexcept = default;
AuthStore& AuthStore::operator=(AuthStore&&) noexcept = default;

AuthStore::Entry* AuthStore::find_entry(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second.get();
}

Status AuthStore::add_user(std::string name, std::string_view password,
                           std::vector<std::string> tags) {
  if (find_entry(name) != nullptr) {
    return make_error(amqp::kPreconditionFailed, "user '" + name + "' already exists");
  }
  std::string hash = hash_password(password, HashAlgorithm::kSha256);
  return put_user_hash(std::move(name), std::move(hash), kSha256Name, std::move(tags));
}

Status AuthStore::put_user_hash(std::string name, std::string hash_b64, std::string_view algorithm,
                                std::vector<std::string> tags) {
  if (name.empty()) return make_error(amqp::kPreconditionFailed, "user name must not be empty");
  auto alg = parse_hash_algorithm(algorithm);
  if (!alg) {
    return make_error(
        amqp::kPreconditionFailed,
        "unsupported hashing algorithm '" + std::string(algorithm) + "' for user '" + name + "'");
  }
  auto raw = base64_decode(hash_b64);
  if (!raw) {
    return make_error(amqp::kPreconditionFailed,
                      "password_hash of user '" + name + "' is not valid base64");
  }
  auto& slot = users_[name];
  if (!slot) slot = std::make_unique<Entry>();
  slot->user.name = std::move(name);
  slot->user.password_hash = std::move(hash_b64);
  slot->user.algorithm = *alg;
  slot->user.tags = clean_tags(std::move(tags));
  slot->raw_hash = std::move(*raw);
  return ok_status();
}

Status AuthStore::change_password(std::string_view name, std::string_view password) {
  Entry* e = find_entry(name);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(name) + "'");
  e->user.password_hash = hash_password(password, HashAlgorithm::kSha256);
  e->user.algorithm = HashAlgorithm::kSha256;
  e->raw_hash = *base64_decode(e->user.password_hash);
  return ok_status();
}

Status AuthStore::clear_password(std::string_view name) {
  Entry* e = find_entry(name);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(name) + "'");
  e->user.password_hash.clear();
  e->raw_hash.clear();
  return ok_status();
}

Status AuthStore::set_tags(std::string_view name, std::vector<std::string> tags) {
  Entry* e = find_entry(name);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(name) + "'");
  e->user.tags = clean_tags(std::move(tags));
  return ok_status();
}

Status AuthStore::merge_user_limits(std::string_view name,
                                    const std::vector<std::pair<std::string, int64_t>>& limits) {
  Entry* e = find_entry(name);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(name) + "'");
  for (const auto& [k, v] : limits) e->user.limits[k] = v;
  return ok_status();
}

Status AuthStore::clear_user_limit(std::string_view name, std::string_view limit) {
  Entry* e = find_entry(name);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(name) + "'");
  e->user.limits.erase(std::string(limit));
  return ok_status();
}

Status AuthStore::delete_user(std::string_view name) {
  auto it = users_.find(name);
  if (it == users_.end()) {
    return make_error(amqp::kNotFound, "no user '" + std::string(name) + "'");
  }
  users_.erase(it);
  return ok_status();
}

const User* AuthStore::find_user(std::string_view name) const {
  const Entry* e = find_entry(name);
  return e == nullptr ? nullptr : &e->user;
}

const User* AuthStore::authenticate(std::string_view name, std::string_view password) const {
  const Entry* e = find_entry(name);
  if (e == nullptr || e->raw_hash.empty()) {
    // Hash anyway, against a dummy of the default algorithm, so that an unknown (or
    // passwordless) user takes as long to refuse as a wrong password: timing must not tell
    // which user names exist.
    static const std::string dummy = [] {
      auto raw = base64_decode(hash_password("pulse-dummy-password"));
      return raw ? *raw : std::string();
    }();
    (void)verify_password_raw(dummy, HashAlgorithm::kSha256, password);
    return nullptr;
  }
  return verify_password_raw(e->raw_hash, e->user.algorithm, password) ? &e->user : nullptr;
}

Status AuthStore::set_permissions(std::string_view user, std::string_view vhost,
                                  std::string configure, std::string write, std::string read) {
  Entry* e = find_entry(user);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(user) + "'");
  auto c = compile(configure);
  if (!c.ok()) return std::move(c).error();
  auto w = compile(write);
  if (!w.ok()) return std::move(w).error();
  auto r = compile(read);
  if (!r.ok()) return std::move(r).error();
  VhostPerms p{std::move(configure), std::move(write),     std::move(read),
               std::move(c).value(), std::move(w).value(), std::move(r).value()};
  auto it = e->perms.find(vhost);
  if (it == e->perms.end()) {
    e->perms.emplace(std::string(vhost), std::move(p));
  } else {
    it->second = std::move(p);
  }
  return ok_status();
}

void AuthStore::clear_permissions(std::string_view user, std::string_view vhost) {
  if (Entry* e = find_entry(user)) {
    if (auto it = e->perms.find(vhost); it != e->perms.end()) e->perms.erase(it);
  }
}

bool AuthStore::has_vhost_access(std::string_view user, std::string_view vhost) const {
  const Entry* e = find_entry(user);
  return e != nullptr && e->perms.find(vhost) != e->perms.end();
}

bool AuthStore::check(std::string_view user, std::string_view vhost, std::string_view resource_name,
                      Access access) const {
  const Entry* e = find_entry(user);
  if (e == nullptr) return false;
  auto it = e->perms.find(vhost);
  if (it == e->perms.end()) return false;
  const VhostPerms& p = it->second;
  const RE2* re = access == Access::kConfigure ? p.configure.get()
                  : access == Access::kWrite   ? p.write.get()
                                               : p.read.get();
  return RE2::PartialMatch(resource_name, *re);
}

Status AuthStore::set_topic_permissions(std::string_view user, std::string_view vhost,
                                        std::string_view exchange, std::string write,
                                        std::string read) {
  Entry* e = find_entry(user);
  if (e == nullptr) return make_error(amqp::kNotFound, "no user '" + std::string(user) + "'");
  auto w = make_topic_pattern(std::move(write), user, vhost);
  if (!w.ok()) return std::move(w).error();
  auto r = make_topic_pattern(std::move(read), user, vhost);
  if (!r.ok()) return std::move(r).error();
  auto vit = e->topics.find(vhost);
  if (vit == e->topics.end())
    vit = e->topics.emplace(std::string(vhost), decltype(vit->second){}).first;
  auto& by_exchange = vit->second;
  TopicPerms tp{std::move(w).value(), std::move(r).value()};
  if (auto xit = by_exchange.find(exchange); xit != by_exchange.end()) {
    xit->second = std::move(tp);
  } else {
    by_exchange.emplace(std::string(exchange), std::move(tp));
  }
  return ok_status();
}

void AuthStore::clear_topic_permissions(std::string_view user, std::string_view vhost,
                                        std::string_view exchange) {
  Entry* e = find_entry(user);
  if (e == nullptr) return;
  auto vit = e->topics.find(vhost);
  if (vit == e->topics.end()) return;
  if (auto xit = vit->second.find(exchange); xit != vit->second.end()) vit->second.erase(xit);
  if (vit->second.empty()) e->topics.erase(vit);
}

bool AuthStore::check_topic(std::string_view user, std::string_view vhost,
                            std::string_view exchange, std::string_view routing_key, Access access,
                            std::string_view client_id) const {
  const Entry* e = find_entry(user);
  if (e == nullptr) return false;
  auto vit = e->topics.find(vhost);
  if (vit == e->topics.end()) return true;
  auto xit = vit->second.find(exchange);
  if (xit == vit->second.end()) return true;
  switch (access) {
    case Access::kWrite:
      return match_topic(xit->second.write, routing_key, user, vhost, client_id);
    case Access::kRead:
      return match_topic(xit->second.read, routing_key, user, vhost, client_id);
    case Access::kConfigure:
      break;  // topic permissions have no configure part
  }
  return false;
}

void AuthStore::clear_vhost(std::string_view vhost) {
  for (auto& [name, e] : users_) {
    if (auto it = e->perms.find(vhost); it != e->perms.end()) e->perms.erase(it);
    if (auto it = e->topics.find(vhost); it != e->topics.end()) e->topics.erase(it);
  }
}

std::vector<const User*> AuthStore::users() const {
  std::vector<const User*> out;
  out.reserve(users_.size());
  for (const auto& [name, e] : users_) out.push_back(&e->user);
  std::sort(out.begin(), out.end(), [](const User* a, const User* b) { return a->name < b->name; });
  return out;
}

std::vector<PermissionEntry> AuthStore::permissions() const {
  std::vector<PermissionEntry> out;
  for (const auto& [name, e] : users_) {
    for (const auto& [vhost, p] : e->perms) {
      out.push_back({name, vhost, p.configure_src, p.write_src, p.read_src});
    }
  }
  std::sort(out.begin(), out.end(), [](const PermissionEntry& a, const PermissionEntry& b) {
    return std::tie(a.user, a.vhost) < std::tie(b.user, b.vhost);
  });
  return out;
}

std::vector<TopicPermissionEntry> AuthStore::topic_permissions() const {
  std::vector<TopicPermissionEntry> out;
  for (const auto& [name, e] : users_) {
    for (const auto& [vhost, by_exchange] : e->topics) {
      for (const auto& [exchange, tp] : by_exchange) {
        out.push_back({name, vhost, exchange, tp.write.source, tp.read.source});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TopicPermissionEntry& a, const TopicPermissionEntry& b) {
              return std::tie(a.user, a.vhost, a.exchange) < std::tie(b.user, b.vhost, b.exchange);
            });
  return out;
}

}  // namespace pulse::auth
