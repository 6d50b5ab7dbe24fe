#pragma once
// Users, vhost permissions and topic permissions, with RabbitMQ's internal-backend semantics
// (rabbit_auth_backend_internal). Owned by the broker event loop; not thread-safe. Checks are
// on the publish path, so regexes are compiled once when a permission is set, and lookups take
// string_views without allocating.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/password.h"
#include "base/result.h"

namespace pulse::auth {

enum class Access { kConfigure, kWrite, kRead };

struct User {
  std::string name;
  std::string password_hash;  // base64(salt ++ digest); empty = cannot log in by password
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  std::vector<std::string> tags;  // administrator, management, monitoring, policymaker, ...
  // User limits (max-connections, max-channels; see broker/limits.h), by name as RabbitMQ's
  // map lists them. Kept when the user is replaced (PUT, import), as in RabbitMQ.
  std::map<std::string, int64_t> limits;

  bool has_tag(std::string_view tag) const;
};

struct PermissionEntry {
  std::string user, vhost, configure, write, read;
};

struct TopicPermissionEntry {
  std::string user, vhost, exchange, write, read;
};

// RabbitMQ checks exchange "" (the default exchange) under the name "amq.default".
inline std::string_view permission_resource_name_for_exchange(std::string_view exchange) {
  return exchange.empty() ? std::string_view("amq.default") : exchange;
}

// True when `user` may only connect from a loopback address (rabbitmq.conf loopback_users).
bool loopback_only(std::string_view user, const std::vector<std::string>& loopback_users);

class AuthStore {
 public:
  AuthStore();
  ~AuthStore();
  AuthStore(AuthStore&&) noexcept;
  AuthStore& operator=(AuthStore&&) noexcept;
  AuthStore(const AuthStore&) = delete;
  AuthStore& operator=(const AuthStore&) = delete;

  // Fails if the user exists (rabbitmqctl add_user). Password hashed with SHA-256.
  Status add_user(std::string name, std::string_view password, std::vector<std::string> tags);
  // Creates or replaces a user from an existing hash (definitions import, management PUT).
  // Existing permissions are kept, as RabbitMQ's put_user does. `algorithm` is RabbitMQ's
  // module name; an empty hash is allowed and means "no password login".
  Status put_user_hash(std::string name, std::string hash_b64, std::string_view algorithm,
                       std::vector<std::string> tags);
  Status change_password(std::string_view name, std::string_view password);
  Status clear_password(std::string_view name);
  Status set_tags(std::string_view name, std::vector<std::string> tags);
  // User limits, validated by the caller: merged by name into the user's, as RabbitMQ's
  // set_user_limits does, or one removed (no such limit is fine).
  Status merge_user_limits(std::string_view name,
                           const std::vector<std::pair<std::string, int64_t>>& limits);
  Status clear_user_limit(std::string_view name, std::string_view limit);
  // Removes the user with all its permissions.
  Status delete_user(std::string_view name);

  const User* find_user(std::string_view name) const;
  // The user when the password is right, else nullptr.
  const User* authenticate(std::string_view name, std::string_view password) const;

  // Regexes are validated here; an invalid one is an error and changes nothing.
  Status set_permissions(std::string_view user, std::string_view vhost, std::string configure,
                         std::string write, std::string read);
  void clear_permissions(std::string_view user, std::string_view vhost);
  // Any permission entry for (user, vhost) grants access to the vhost.
  bool has_vhost_access(std::string_view user, std::string_view vhost) const;
  // Unanchored RE2 search of the permission regex in `resource_name`; an empty regex is "^$".
  // For exchanges pass permission_resource_name_for_exchange(name).
  bool check(std::string_view user, std::string_view vhost, std::string_view resource_name,
             Access access) const;

  // Topic permissions apply to routing keys on topic exchanges. {username} and {vhost} in the
  // patterns are expanded, {client_id} too when a client id is given (MQTT, STOMP).
  Status set_topic_permissions(std::string_view user, std::string_view vhost,
                               std::string_view exchange, std::string write, std::string read);
  void clear_topic_permissions(std::string_view user, std::string_view vhost,
                               std::string_view exchange);
  // No topic permission for (user, vhost, exchange) means allowed. `access` is kWrite or kRead.
  bool check_topic(std::string_view user, std::string_view vhost, std::string_view exchange,
                   std::string_view routing_key, Access access,
                   std::string_view client_id = {}) const;

  // Drops every permission and topic permission on `vhost` (vhost deleted).
  void clear_vhost(std::string_view vhost);

  // Listings, sorted by user then vhost (then exchange), for the management API and export.
  std::vector<const User*> users() const;
  std::vector<PermissionEntry> permissions() const;
  std::vector<TopicPermissionEntry> topic_permissions() const;
  size_t user_count() const { return users_.size(); }

  // pulse.namespaces.strict (namespace_policy.h); off by default, as RabbitMQ has no such rule.
  void set_strict_namespaces(bool on) { strict_namespaces_ = on; }
  bool strict_namespaces() const { return strict_namespaces_; }

 private:
  struct Entry;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Entry* find_entry(std::string_view name) const;

  std::unordered_map<std::string, std::unique_ptr<Entry>, StringHash, std::equal_to<>> users_;
  bool strict_namespaces_ = false;
};

}  // namespace pulse::auth
