#pragma once
// Durable definitions across restarts: write-through of broker and auth changes to the
// DefinitionsStore (as definitions-model rows: definitions/snapshot.h), and recovery from it at
// start-up through the one apply path (definitions/apply.h).
//
// What is durable follows RabbitMQ: durable exchanges, durable non-exclusive queues, bindings
// whose source and destination are both durable (and the destination queue not exclusive), and
// every vhost, user, permission, topic permission and policy. The default exchanges are never
// stored: each vhost recreates them.
//
// Runs on the event loop: each change is one SQLite transaction (an fsync of the WAL, a few ms
// on this disk), paid by the declare/bind/delete that caused it, never by publishing.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth_store.h"
#include "base/result.h"
#include "broker/broker.h"
#include "broker/definitions_observer.h"
#include "persist/queue_storage.h"
#include "store/definitions_store.h"

namespace pulse::app {

class DefinitionsPersister : public broker::DefinitionsObserver {
 public:
  explicit DefinitionsPersister(store::DefinitionsStore& store) : store_(store) {}
  // Durable queues declared from now on get their message store from `queues` (may be null:
  // definitions only, as in tests).
  void set_queue_storage(persist::QueueStorage* queues) { queues_ = queues; }

  void on_vhost_added(const std::string& vhost) override;
  void on_vhost_deleted(const std::string& vhost) override;
  void on_vhost_metadata_changed(const broker::VHost& vhost) override;
  void on_vhost_limits_changed(const broker::VHost& vhost) override;
  void on_exchange_declared(broker::VHost& vhost, const broker::Exchange& x) override;
  void on_exchange_deleted(broker::VHost& vhost, const broker::Exchange& x) override;
  void on_queue_declared(broker::VHost& vhost, broker::Queue& q) override;
  void on_queue_deleted(broker::VHost& vhost, const broker::Queue& q) override;
  void on_binding_added(broker::VHost& vhost, const broker::Binding& b) override;
  void on_binding_removed(broker::VHost& vhost, const broker::Binding& b) override;
  void on_policy_set(broker::VHost& vhost, const broker::Policy& p) override;
  void on_policy_cleared(broker::VHost& vhost, const std::string& name) override;
  void on_global_parameter_set(const std::string& name, const std::string& value_json) override;
  void on_global_parameter_cleared(const std::string& name) override;

  // Auth changes are made by boot code (and later the management API) rather than the
  // broker, so they are persisted by explicit calls after the AuthStore accepted them.
  // Writes the user's current state, or deletes it (with its permissions) when it is gone.
  Status persist_user(const auth::AuthStore& auth, std::string_view user);
  // Writes or deletes the (user, vhost) permission to match the AuthStore.
  Status persist_permission(const auth::AuthStore& auth, std::string_view user,
                            std::string_view vhost);
  Status persist_topic_permission(const auth::AuthStore& auth, std::string_view user,
                                  std::string_view vhost, std::string_view exchange);
  // Writes every user, permission and topic permission (boot-time import), in one transaction.
  Status persist_all_auth(const auth::AuthStore& auth);

  // Observer callbacks cannot fail the broker change (it has happened already): a failed write
  // is logged at error and counted; the first error is kept for start-up code to act on.
  size_t failures() const { return failures_; }
  std::optional<Error> take_error();

 private:
  void record(Status s, std::string_view what);

  store::DefinitionsStore& store_;
  persist::QueueStorage* queues_ = nullptr;
  size_t failures_ = 0;
  std::optional<Error> first_error_;
};

// A durable exchange/queue/binding as RabbitMQ decides it (see the top of this file).
bool is_durable(const broker::Exchange& x);
bool is_durable(const broker::Queue& q);
bool is_durable(broker::VHost& vhost, const broker::Binding& b);

struct RecoverySummary {
  size_t vhosts = 0, users = 0, permissions = 0, topic_permissions = 0;
  size_t policies = 0, exchanges = 0, queues = 0, bindings = 0;
  size_t messages = 0;  // recovered in durable queues
  size_t skipped = 0;   // rows the broker refused (logged at warn each)
  std::string text() const;
};

// Loads everything in the store into a broker and auth store that have no observer attached
// yet (so nothing is written back), with definitions::DefinitionsApply in its recovery mode:
// RabbitMQ's import order (policies before exchanges and queues, so recovered entities start
// with their policy applied), a row the broker refuses logged and skipped, vhosts an entry
// names recreated. Undecodable argument tables or policy definitions are an error (the
// database is damaged). With `queues`, durable queues also get their message stores and
// recover their messages.
Result<RecoverySummary> recover_definitions(store::DefinitionsStore& store, broker::Broker& broker,
                                            auth::AuthStore& auth,
                                            persist::QueueStorage* queues = nullptr);

}  // namespace pulse::app
