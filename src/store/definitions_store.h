#pragma once
// Durable definitions in SQLite (WAL, synchronous=FULL): each mutating call is one
// transaction, so a crash leaves every change either fully in or fully out. Argument tables,
// vhost metadata and policy definitions are opaque to the store: the caller encodes them
// (AMQP field-table bytes or JSON text) and gets the same bytes back from load_all().
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

struct sqlite3;

namespace pulse::store {

struct VHostDef {
  std::string name;
  std::string metadata;  // description, tags, default queue type...: caller-encoded (JSON)
};
struct UserDef {
  std::string name;
  std::string password_hash;      // base64, as in RabbitMQ definitions
  std::string hashing_algorithm;  // RabbitMQ module name, e.g. rabbit_password_hashing_sha256
  std::vector<std::string> tags;
};
struct PermissionDef {
  std::string user, vhost, configure, write, read;
};
struct TopicPermissionDef {
  std::string user, vhost, exchange, write, read;
};
struct ExchangeDef {
  std::string vhost, name, type;
  bool durable = true, auto_delete = false, internal = false;
  std::vector<uint8_t> arguments;
};
struct QueueDef {
  uint64_t id = 0;  // assigned by put_queue; names the queue's message directory
  std::string vhost, name, type = "classic";
  bool durable = true, auto_delete = false;
  std::vector<uint8_t> arguments;
};
struct BindingDef {
  std::string vhost, source, destination;
  bool destination_is_exchange = false;
  std::string routing_key;
  std::vector<uint8_t> arguments;  // part of the binding's identity, as in RabbitMQ
};
struct PolicyDef {
  std::string vhost, name, pattern, apply_to = "all";
  int64_t priority = 0;
  std::string definition;  // JSON text
  bool operator_policy = false;
};
struct KvEntry {
  std::string scope, key;  // e.g. scope "pulse.owner", key "exchange/<vhost>/<name>"
  std::vector<uint8_t> value;
};

struct Definitions {
  std::vector<VHostDef> vhosts;
  std::vector<UserDef> users;
  std::vector<PermissionDef> permissions;
  std::vector<TopicPermissionDef> topic_permissions;
  std::vector<ExchangeDef> exchanges;
  std::vector<QueueDef> queues;
  std::vector<BindingDef> bindings;
  std::vector<PolicyDef> policies;
  std::vector<KvEntry> kv;
};

class DefinitionsStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens `db_path`. With create=false a missing file is an error (a data directory that lost
  // its database must not come back empty); a file that is not a Pulse definitions database,
  // fails SQLite's integrity check, or has another schema version is refused.
  static Result<std::unique_ptr<DefinitionsStore>> open(const std::string& db_path, bool create);
  ~DefinitionsStore();

  Status put_vhost(const VHostDef& v);  // create or replace
  Status delete_vhost(const std::string& name);
  Status put_user(const UserDef& u);
  Status delete_user(const std::string& name);
  Status put_permission(const PermissionDef& p);
  Status delete_permission(const std::string& user, const std::string& vhost);
  Status put_topic_permission(const TopicPermissionDef& p);
  Status delete_topic_permission(const std::string& user, const std::string& vhost,
                                 const std::string& exchange);
  Status put_exchange(const ExchangeDef& e);
  Status delete_exchange(const std::string& vhost, const std::string& name);
  // Returns the queue's id: kept when the queue already exists, new otherwise.
  Result<uint64_t> put_queue(const QueueDef& q);
  Status delete_queue(const std::string& vhost, const std::string& name);
  Status add_binding(const BindingDef& b);  // idempotent
  Status delete_binding(const BindingDef& b);
  Status put_policy(const PolicyDef& p);
  Status delete_policy(const std::string& vhost, const std::string& name, bool operator_policy);
  Status put_kv(const KvEntry& e);
  Status delete_kv(const std::string& scope, const std::string& key);

  // Runs `fn` as one transaction (definitions import): the calls it makes join it; an error
  // from `fn` or any call rolls everything back.
  Status transaction(const std::function<Status()>& fn);

  Result<Definitions> load_all();

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
