#include "store/definitions_store.h"

#include <sqlite3.h>

#include "store/definitions_codec.h"
#include "store/file.h"
#include "store/sqlite_util.h"

namespace pulse::store {
namespace {

constexpr int kApplicationId = 0x50554C53;  // "PULS": tells our database from any other

constexpr const char* kSchema = R"sql(
CREATE TABLE vhosts (name TEXT PRIMARY KEY, metadata TEXT NOT NULL);
CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
  hashing_algorithm TEXT NOT NULL, tags TEXT NOT NULL);
CREATE TABLE permissions (user TEXT NOT NULL, vhost TEXT NOT NULL, configure TEXT NOT NULL,
  write TEXT NOT NULL, read TEXT NOT NULL, PRIMARY KEY (user, vhost));
CREATE TABLE topic_permissions (user TEXT NOT NULL, vhost TEXT NOT NULL,
  exchange TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
  PRIMARY KEY (user, vhost, exchange));
CREATE TABLE exchanges (vhost TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
  durable INTEGER NOT NULL, auto_delete INTEGER NOT NULL, internal INTEGER NOT NULL,
  arguments BLOB NOT NULL, PRIMARY KEY (vhost, name));
CREATE TABLE queues (id INTEGER PRIMARY KEY AUTOINCREMENT, vhost TEXT NOT NULL,
  name TEXT NOT NULL, type TEXT NOT NULL, durable INTEGER NOT NULL,
  auto_delete INTEGER NOT NULL, arguments BLOB NOT NULL, UNIQUE (vhost, name));
CREATE TABLE bindings (vhost TEXT NOT NULL, source TEXT NOT NULL, destination TEXT NOT NULL,
  destination_is_exchange INTEGER NOT NULL, routing_key TEXT NOT NULL, arguments BLOB NOT NULL,
  PRIMARY KEY (vhost, source, destination, destination_is_exchange, routing_key, arguments));
CREATE INDEX bindings_by_destination ON bindings (vhost, destination, destination_is_exchange);
CREATE TABLE policies (vhost TEXT NOT NULL, name TEXT NOT NULL,
  operator_policy INTEGER NOT NULL, pattern TEXT NOT NULL, apply_to TEXT NOT NULL,
  priority INTEGER NOT NULL, definition TEXT NOT NULL,
  PRIMARY KEY (vhost, name, operator_policy));
CREATE TABLE kv (scope TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
  PRIMARY KEY (scope, key));
)sql";

Result<int64_t> pragma_int(sqlite3* db, const char* sql) {
  Stmt st(db, sql);
  auto r = st.step();
  if (!r) return std::move(r).error();
  return *r ? st.col_int(0) : int64_t{0};
}

}  // namespace

Result<std::unique_ptr<DefinitionsStore>> DefinitionsStore::open(const std::string& db_path,
                                                                 bool create) {
  bool fresh = !exists(db_path);
  if (fresh && !create) {
    return store_error("definitions database " + db_path +
                       " is missing; refusing to start with empty definitions");
  }
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (fresh ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(db_path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<DefinitionsStore> store(new DefinitionsStore(raw, db_path + "-wal"));
  if (rc != SQLITE_OK) return sqlite_error(raw, "open " + db_path);
  sqlite3_busy_timeout(raw, 2000);
  auto refuse = [&](const std::string& why) {
    return store_error("definitions database " + db_path + " " + why +
                       "; refusing to start (restore it from a backup or move it away)");
  };
  if (!fresh) {
    // Check before touching anything: the WAL switch below would write to a foreign file.
    Stmt check(raw, "PRAGMA quick_check");
    auto row = check.step();
    if (!row) return refuse("is corrupt or not a database (" + row.error().text + ")");
    if (!*row || check.col_text(0) != "ok") {
      return refuse("failed its integrity check (" + (*row ? check.col_text(0) : "") + ")");
    }
    auto app = pragma_int(raw, "PRAGMA application_id");
    if (!app) return refuse("is unreadable (" + app.error().text + ")");
    if (*app != kApplicationId) return refuse("is not a Pulse definitions database");
    auto ver = pragma_int(raw, "PRAGMA user_version");
    if (!ver) return refuse("is unreadable (" + ver.error().text + ")");
    if (*ver != kSchemaVersion) {
      return refuse("has schema version " + std::to_string(*ver) + ", this pulsed supports " +
                    std::to_string(kSchemaVersion));
    }
  }
  if (auto s = exec(raw, "PRAGMA journal_mode=WAL"); !s) return std::move(s).error();
  // FULL: the WAL is fsynced at every commit, so a change the broker acknowledged survives a
  // power loss, not only a process crash.
  if (auto s = exec(raw, "PRAGMA synchronous=FULL"); !s) return std::move(s).error();
  if (fresh) {
    auto s = store->in_tx([&]() -> Status {
      if (auto e = exec(raw, kSchema); !e) return e;
      std::string pragmas = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                            "; PRAGMA user_version=" + std::to_string(kSchemaVersion);
      return exec(raw, pragmas.c_str());
    });
    if (!s) return std::move(s).error();
  }
  return store;
}

DefinitionsStore::~DefinitionsStore() {
  sqlite3_close_v2(db_);
}

Status DefinitionsStore::in_tx(const std::function<Status()>& fn) {
  if (depth_ > 0) return fn();
  if (auto s = exec(db_, "BEGIN IMMEDIATE"); !s) return s;
  ++depth_;
  Status s = fn();
  --depth_;
  if (!s) {
    (void)exec(db_, "ROLLBACK");
    return s;
  }
  if (auto c = exec(db_, "COMMIT"); !c) {
    (void)exec(db_, "ROLLBACK");
    return c;
  }
  return ok_status();
}

Status DefinitionsStore::transaction(const std::function<Status()>& fn) {
  return in_tx(fn);
}

Status DefinitionsStore::set_commit_sync(bool full) {
  return exec(db_, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

Status DefinitionsStore::put_vhost(const definitions::Vhost& v) {
  return Stmt(db_, "INSERT OR REPLACE INTO vhosts VALUES (?, ?)")
      .text(v.name)
      .text(encode_vhost_metadata(v))
      .run();
}

Status DefinitionsStore::delete_vhost(const std::string& name) {
  return in_tx([&]() -> Status {
    for (const char* sql :
         {"DELETE FROM vhosts WHERE name = ?", "DELETE FROM permissions WHERE vhost = ?",
          "DELETE FROM topic_permissions WHERE vhost = ?", "DELETE FROM exchanges WHERE vhost = ?",
          "DELETE FROM queues WHERE vhost = ?", "DELETE FROM bindings WHERE vhost = ?",
          "DELETE FROM policies WHERE vhost = ?"}) {
      if (auto s = Stmt(db_, sql).text(name).run(); !s) return s;
    }
    return delete_kv(kVhostLimitsScope, name);
  });
}

Status DefinitionsStore::put_user(const definitions::User& u) {
  return in_tx([&]() -> Status {
    auto s = Stmt(db_, "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)")
                 .text(u.name)
                 .text(u.password_hash)
                 .text(u.hashing_algorithm)
                 .text(join_tags(u.tags))
                 .run();
    if (!s) return s;
    if (!u.limits || !u.limits->is_object() || u.limits->empty())
      return delete_kv(kUserLimitsScope, u.name);
    std::string text = u.limits->dump();
    return put_kv(KvEntry{.scope = kUserLimitsScope,
                          .key = u.name,
                          .value = std::vector<uint8_t>(text.begin(), text.end())});
  });
}

Status DefinitionsStore::delete_user(const std::string& name) {
  return in_tx([&]() -> Status {
    for (const char* sql :
         {"DELETE FROM users WHERE name = ?", "DELETE FROM permissions WHERE user = ?",
          "DELETE FROM topic_permissions WHERE user = ?"}) {
      if (auto s = Stmt(db_, sql).text(name).run(); !s) return s;
    }
    return delete_kv(kUserLimitsScope, name);
  });
}

Status DefinitionsStore::put_permission(const definitions::Permission& p) {
  return Stmt(db_, "INSERT OR REPLACE INTO permissions VALUES (?, ?, ?, ?, ?)")
      .text(p.user)
      .text(p.vhost)
      .text(p.configure)
      .text(p.write)
      .text(p.read)
      .run();
}

Status DefinitionsStore::delete_permission(const std::string& user, const std::string& vhost) {
  return Stmt(db_, "DELETE FROM permissions WHERE user = ? AND vhost = ?")
      .text(user)
      .text(vhost)
      .run();
}

Status DefinitionsStore::put_topic_permission(const definitions::TopicPermission& p) {
  return Stmt(db_, "INSERT OR REPLACE INTO topic_permissions VALUES (?, ?, ?, ?, ?)")
      .text(p.user)
      .text(p.vhost)
      .text(p.exchange)
      .text(p.write)
      .text(p.read)
      .run();
}

Status DefinitionsStore::delete_topic_permission(const std::string& user, const std::string& vhost,
                                                 const std::string& exchange) {
  return Stmt(db_, "DELETE FROM topic_permissions WHERE user = ? AND vhost = ? AND exchange = ?")
      .text(user)
      .text(vhost)
      .text(exchange)
      .run();
}

Status DefinitionsStore::put_exchange(const definitions::Exchange& e) {
  return Stmt(db_, "INSERT OR REPLACE INTO exchanges VALUES (?, ?, ?, ?, ?, ?, ?)")
      .text(e.vhost)
      .text(e.name)
      .text(e.type)
      .integer(e.durable)
      .integer(e.auto_delete)
      .integer(e.internal)
      .blob(encode_args(e.arguments))
      .run();
}

Status DefinitionsStore::delete_exchange(const std::string& vhost, const std::string& name) {
  return in_tx([&]() -> Status {
    if (auto s = Stmt(db_, "DELETE FROM exchanges WHERE vhost = ? AND name = ?")
                     .text(vhost)
                     .text(name)
                     .run();
        !s) {
      return s;
    }
    return Stmt(db_,
                "DELETE FROM bindings WHERE vhost = ? AND (source = ? OR "
                "(destination = ? AND destination_is_exchange = 1))")
        .text(vhost)
        .text(name)
        .text(name)
        .run();
  });
}

Result<uint64_t> DefinitionsStore::put_queue(const definitions::Queue& q) {
  uint64_t id = 0;
  const std::string type = q.type.empty() ? "classic" : q.type;
  auto s = in_tx([&]() -> Status {
    // An upsert keeps the id, so a redeclare never orphans the queue's message directory.
    Stmt up(db_,
            "INSERT INTO queues (vhost, name, type, durable, auto_delete, arguments) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (vhost, name) DO UPDATE SET "
            "type = excluded.type, durable = excluded.durable, "
            "auto_delete = excluded.auto_delete, arguments = excluded.arguments");
    up.text(q.vhost)
        .text(q.name)
        .text(type)
        .integer(q.durable)
        .integer(q.auto_delete)
        .blob(encode_args(q.arguments));
    if (auto r = up.run(); !r) return r;
    Stmt get(db_, "SELECT id FROM queues WHERE vhost = ? AND name = ?");
    get.text(q.vhost).text(q.name);
    auto row = get.step();
    if (!row) return std::move(row).error();
    id = static_cast<uint64_t>(get.col_int(0));
    return ok_status();
  });
  if (!s) return std::move(s).error();
  return id;
}

Status DefinitionsStore::delete_queue(const std::string& vhost, const std::string& name) {
  return in_tx([&]() -> Status {
    if (auto s = Stmt(db_, "DELETE FROM queues WHERE vhost = ? AND name = ?")
                     .text(vhost)
                     .text(name)
                     .run();
        !s) {
      return s;
    }
    return Stmt(db_,
                "DELETE FROM bindings WHERE vhost = ? AND destination = ? AND "
                "destination_is_exchange = 0")
        .text(vhost)
        .text(name)
        .run();
  });
}

Status DefinitionsStore::add_binding(const definitions::Binding& b) {
  return Stmt(db_, "INSERT OR IGNORE INTO bindings VALUES (?, ?, ?, ?, ?, ?)")
      .text(b.vhost)
      .text(b.source)
      .text(b.destination)
      .integer(b.destination_kind == definitions::DestinationKind::kExchange)
      .text(b.routing_key)
      .blob(encode_args(b.arguments))
      .run();
}

Status DefinitionsStore::delete_binding(const definitions::Binding& b) {
  return Stmt(db_,
              "DELETE FROM bindings WHERE vhost = ? AND source = ? AND destination = ? AND "
              "destination_is_exchange = ? AND routing_key = ? AND arguments = ?")
      .text(b.vhost)
      .text(b.source)
      .text(b.destination)
      .integer(b.destination_kind == definitions::DestinationKind::kExchange)
      .text(b.routing_key)
      .blob(encode_args(b.arguments))
      .run();
}

Status DefinitionsStore::put_policy(const definitions::Policy& p) {
  return Stmt(db_, "INSERT OR REPLACE INTO policies VALUES (?, ?, ?, ?, ?, ?, ?)")
      .text(p.vhost)
      .text(p.name)
      .integer(false)  // operator policies are not supported yet
      .text(p.pattern)
      .text(p.apply_to)
      .integer(p.priority)
      .text(encode_policy_definition(p.definition))
      .run();
}

Status DefinitionsStore::delete_policy(const std::string& vhost, const std::string& name,
                                       bool operator_policy) {
  return Stmt(db_, "DELETE FROM policies WHERE vhost = ? AND name = ? AND operator_policy = ?")
      .text(vhost)
      .text(name)
      .integer(operator_policy)
      .run();
}

Status DefinitionsStore::put_parameter(const definitions::Parameter& p) {
  if (p.component != "vhost-limits" || p.name != "limits") {
    return store_error("definitions database: only vhost limits are kept, not parameter " +
                       p.component + "/" + p.name);
  }
  std::string text = p.value.dump();
  return put_kv(KvEntry{.scope = kVhostLimitsScope,
                        .key = p.vhost,
                        .value = std::vector<uint8_t>(text.begin(), text.end())});
}

Status DefinitionsStore::delete_parameter(const std::string& vhost, const std::string& component,
                                          const std::string& name) {
  if (component != "vhost-limits" || name != "limits") return ok_status();
  return delete_kv(kVhostLimitsScope, vhost);
}

Status DefinitionsStore::put_global_parameter(const std::string& name,
                                              const std::string& value_json) {
  return put_kv(KvEntry{.scope = kGlobalParameterScope,
                        .key = name,
                        .value = std::vector<uint8_t>(value_json.begin(), value_json.end())});
}

Status DefinitionsStore::delete_global_parameter(const std::string& name) {
  return delete_kv(kGlobalParameterScope, name);
}

Status DefinitionsStore::put_kv(const KvEntry& e) {
  return Stmt(db_, "INSERT OR REPLACE INTO kv VALUES (?, ?, ?)")
      .text(e.scope)
      .text(e.key)
      .blob(e.value)
      .run();
}

Status DefinitionsStore::delete_kv(const std::string& scope, const std::string& key) {
  return Stmt(db_, "DELETE FROM kv WHERE scope = ? AND key = ?").text(scope).text(key).run();
}

Result<std::vector<KvEntry>> DefinitionsStore::load_scope(const std::string& scope) {
  std::vector<KvEntry> out;
  Stmt st(db_, "SELECT key, value FROM kv WHERE scope = ? ORDER BY key");
  st.text(scope);
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    out.push_back(KvEntry{.scope = scope, .key = st.col_text(0), .value = st.col_blob(1)});
  }
}

}  // namespace pulse::store
