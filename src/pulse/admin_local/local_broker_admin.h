#pragma once
// The in-process BrokerAdmin of pulsed (design §9): reads and changes the Broker and the
// AuthStore directly, with the same semantics as pulsed's management HTTP API (and so
// RabbitMQ's), and persists every change the way the API does.
//
// Thread: the broker's event loop, like the management API. Every call is synchronous and
// returns when the change is made (and persisted); not thread-safe.
//
// What lives outside broker/ and auth/ comes in as callbacks, as http::Hooks brings it to the
// management API; app/ wires them (app/management.h, local_admin_hooks):
//  - persistence of auth changes (the DefinitionsPersister's persist_user / persist_permission,
//    the same calls the API's Hooks::user_changed / permission_changed make). Broker changes
//    (a deleted queue) reach the definitions store through the broker's DefinitionsObserver,
//    as they do for the API;
//  - the live AMQP connections, which belong to server/.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_store.h"
#include "broker/broker.h"
#include "pulse/admin/broker_admin.h"

namespace pulse::admin {

struct LocalAdminHooks {
  // Called after the AuthStore accepted a change to the user (created, changed or deleted).
  std::function<void(std::string_view user)> user_changed;
  // Called after the (user, vhost) permission was set.
  std::function<void(std::string_view user, std::string_view vhost)> permission_changed;
  // The open AMQP connections (null: none).
  std::function<std::vector<ConnectionInfo>()> list_connections;
  // Closes the connection named `name` with 320 CONNECTION_FORCED "<reason>"; false when no
  // open connection has that name (null: never found).
  std::function<bool(const std::string& name, const std::string& reason)> close_connection;
};

class LocalBrokerAdmin : public BrokerAdmin {
 public:
  // `broker` and `auth` must outlive the admin.
  LocalBrokerAdmin(broker::Broker& broker, auth::AuthStore& auth, LocalAdminHooks hooks);

  Result<std::vector<QueueInfo>> list_queues() override;
  Status delete_queue(const std::string& vhost, const std::string& name,
                      const std::string& reason) override;

  Result<std::vector<ExchangeInfo>> list_exchanges() override;
  Status delete_exchange(const std::string& vhost, const std::string& name) override;

  Result<std::vector<ConnectionInfo>> list_connections() override;
  Status close_connection(const std::string& name, const std::string& reason) override;

  Result<std::vector<UserInfo>> list_users() override;
  Status put_user(const std::string& name, const std::string& password,
                  const std::vector<std::string>& tags) override;
  Status delete_user(const std::string& name) override;

  Status set_permissions(const std::string& vhost, const std::string& user,
                         const Permissions& permissions) override;
  Result<std::vector<UserPermissions>> list_permissions(const std::string& user) override;

 private:
  broker::Broker& broker_;
  auth::AuthStore& auth_;
  LocalAdminHooks hooks_;
};

}  // namespace pulse::admin
