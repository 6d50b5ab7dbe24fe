#pragma once
// Durable definitions in SQLite (WAL, synchronous=FULL): each mutating call is one
// transaction, so a crash leaves every change either fully in or fully out. Rows are the
// definitions model (definitions/model.h); the store encodes argument tables as AMQP field-table
// bytes, vhost metadata and policy definitions as JSON text, global parameters as JSON text in
// the kv table (scope "global_parameter"), vhost limits and user limits as JSON text in the kv
// table too (scopes "vhost_limits", "user_limits": no schema change), and decodes them again in
// load_all().
//
// Deletes cascade inside the same transaction, as RabbitMQ's do: a vhost takes its exchanges,
// queues, bindings, permissions and policies; a user its permissions; an exchange or queue the
// bindings that mention it.
//
// Owned by one thread (the broker event loop, or start-up code); not thread-safe. Each commit
// costs an fsync of the WAL, so the broker should keep definition changes off the publish path.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "definitions/model.h"

struct sqlite3;

namespace pulse::store {

// The kv scope of global parameters: key the name, value the JSON text.
inline constexpr const char* kGlobalParameterScope = "global_parameter";
// The kv scope of vhost limits (the vhost-limits parameter): key the vhost, value its JSON.
inline constexpr const char* kVhostLimitsScope = "vhost_limits";
// The kv scope of user limits: key the user, value the JSON object (no row when empty).
inline constexpr const char* kUserLimitsScope = "user_limits";

// The kv scope of Pulse's account state (owners, Pulse users, namespace claims): key
// "owner/<email>", "user/<name>" or "claim/<ns>", value the record's JSON text.
inline constexpr const char* kPulseOwnerScope = "pulse.owner";

// A key/value row for modules that keep small durable state of their own.
struct KvEntry {
  std::string scope{}, key{};  // e.g. scope "pulse.owner", key "exchange/<vhost>/<name>"
  std::vector<uint8_t> value{};
};

// Everything load_all() finds: the model, plus what only the database knows.
struct StoredDefinitions {
  definitions::Definitions defs;    // parameters: vhost limits only; users with their limits
  std::vector<uint64_t> queue_ids;  // queue_ids[i] is defs.queues[i]'s row id
  std::vector<definitions::Policy> operator_policies;  // never written by pulsed
  std::vector<KvEntry> kv;  // every other scope (global parameters and limits are in defs)
};

class DefinitionsStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens `db_path`. With create=false a missing file is an error (a data directory that lost
  // its database must not come back empty); a file that is not a Pulse definitions database,
  // fails SQLite's integrity check, or has another schema version is refused.
  static Result<std::unique_ptr<DefinitionsStore>> open(const std::string& db_path, bool create);
  ~DefinitionsStore();

  // Puts create or replace.
  Status put_vhost(const definitions::Vhost& v);
  Status delete_vhost(const std::string& name);
  // The hash (a cleartext password is not stored) and the limits (none when empty or absent).
  Status put_user(const definitions::User& u);
  Status delete_user(const std::string& name);
  Status put_permission(const definitions::Permission& p);
  Status delete_permission(const std::string& user, const std::string& vhost);
  Status put_topic_permission(const definitions::TopicPermission& p);
  Status delete_topic_permission(const std::string& user, const std::string& vhost,
                                 const std::string& exchange);
  Status put_exchange(const definitions::Exchange& e);
  Status delete_exchange(const std::string& vhost, const std::string& name);
  // Returns the queue's id: kept when the queue already exists, new otherwise. An empty type is
  // stored as "classic".
  Result<uint64_t> put_queue(const definitions::Queue& q);
  Status delete_queue(const std::string& vhost, const std::string& name);
  Status add_binding(const definitions::Binding& b);  // idempotent
  Status delete_binding(const definitions::Binding& b);
  Status put_policy(const definitions::Policy& p);
  Status delete_policy(const std::string& vhost, const std::string& name,
                       bool operator_policy = false);
  // Vhost parameters: only vhost limits (component "vhost-limits") are kept; others are
  // refused. Deleting the vhost deletes them.
  Status put_parameter(const definitions::Parameter& p);
  Status delete_parameter(const std::string& vhost, const std::string& component,
                          const std::string& name);
  Status put_global_parameter(const std::string& name, const std::string& value_json);
  Status delete_global_parameter(const std::string& name);
  Status put_kv(const KvEntry& e);
  Status delete_kv(const std::string& scope, const std::string& key);
  // The rows of one scope, by key (a module's own state, without loading everything).
  Result<std::vector<KvEntry>> load_scope(const std::string& scope);

  // Runs `fn` as one transaction (definitions import): the calls it makes join it; an error
  // from `fn` or any call rolls everything back.
  Status transaction(const std::function<Status()>& fn);

  // Undecodable argument tables, policy definitions or global parameter values are an error
  // naming the row (a damaged database).
  Result<StoredDefinitions> load_all();

  // synchronous=FULL (the default) fsyncs the WAL at every commit. With false (NORMAL) a commit
  // only writes the WAL: safe against a process crash, and the owner makes it power-safe by
  // syncing wal_path() itself, off the calling thread (pulsed's group commit does).
  Status set_commit_sync(bool full);
  const std::string& wal_path() const { return wal_path_; }

 private:
  DefinitionsStore(sqlite3* db, std::string wal_path) : db_(db), wal_path_(std::move(wal_path)) {}
  Status in_tx(const std::function<Status()>& fn);

  sqlite3* db_;
  std::string wal_path_;
  int depth_ = 0;  // >0 inside transaction(): calls join instead of BEGIN
};

}  // namespace pulse::store
