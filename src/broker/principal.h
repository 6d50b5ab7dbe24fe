#pragma once
// Who performs a broker operation (operations.h): a user acting in one vhost, checked against
// the auth store's permissions and topic permissions with RabbitMQ's refusal texts.
//
// Lifetime: an AMQP channel keeps one for its whole life, so granted checks are cached per
// channel as RabbitMQ does (a permission revoked later does not affect an open channel); the
// management API makes one per request. The cache is a short vector compared in place: the
// publish path checks write access on every message and must not allocate or hash.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_store.h"
#include "auth/namespace_policy.h"
#include "base/result.h"

namespace pulse::broker {

class Exchange;
class VHost;

enum class Resource { kExchange, kQueue };

class Principal {
 public:
  // `connection_id` owns the exclusive queues this principal may use (0: none, as for the
  // management API). The store and the vhost must outlive the principal's use.
  Principal(const auth::AuthStore& auth, std::string user, VHost& vhost,
            uint64_t connection_id = 0);

  const std::string& user() const { return user_; }
  VHost& vhost() const { return *vhost_; }
  uint64_t connection_id() const { return connection_id_; }

  // ACCESS_REFUSED "access to exchange 'x' in vhost '/' refused for user 'u'" unless the
  // user's configure/write/read regex matches (the default exchange is "amq.default").
  Status check(Resource kind, std::string_view name, auth::Access access);
  // Topic permissions apply to topic exchanges only; others always pass.
  Status check_topic(const Exchange& x, std::string_view key, auth::Access access) const;
  // The user's tags as the store has them now (false when the user is gone).
  bool has_tag(std::string_view tag) const;
  // Strict namespaces (auth/namespace_policy.h): nothing to check unless the store has them on
  // and the user is not exempt (tagged administrator, looked up now, not cached).
  Status check_namespace(Resource kind, std::string_view name, auth::NamespaceAction action) const;
  // For an exchange declare: the name, then the durable-topic shape.
  Status check_namespace_exchange(std::string_view name, std::string_view type, bool durable) const;

 private:
  struct Granted {
    Resource kind;  // a queue and an exchange of the same name are distinct
    auth::Access access;
    std::string resource;
  };
  static constexpr size_t kMaxGranted = 16;

  const auth::AuthStore* auth_;
  std::string user_;
  VHost* vhost_;
  uint64_t connection_id_;
  std::vector<Granted> granted_;
};

}  // namespace pulse::broker
