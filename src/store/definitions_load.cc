// DefinitionsStore::load_all: one read transaction, so the snapshot is consistent even if a
// writer (another connection in tests) commits meanwhile. One reader per table.
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <map>

#include "store/definitions_codec.h"
#include "store/definitions_store.h"
#include "store/sqlite_util.h"

namespace pulse::store {
namespace {

using namespace definitions;

// Calls fn(row) for each row; fn returns a Status (a row that does not decode stops the load).
template <typename Fn>
Status each_row(sqlite3* db, const char* sql, Fn&& fn) {
  Stmt st(db, sql);
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) return ok_status();
    if (Status s = fn(st); !s) return s;
  }
}

std::string where(const char* kind, const std::string& name, const std::string& vhost) {
  return std::string(kind) + " '" + name + "' in vhost '" + vhost + "'";
}

Status load_auth(sqlite3* db, Definitions& d) {
  auto s = each_row(db, "SELECT name, metadata FROM vhosts ORDER BY name", [&](Stmt& r) {
    Vhost v{.name = r.col_text(0)};
    decode_vhost_metadata(r.col_text(1), v);
    d.vhosts.push_back(std::move(v));
    return ok_status();
  });
  if (s) {
    s = each_row(db, "SELECT name, password_hash, hashing_algorithm, tags FROM users ORDER BY name",
                 [&](Stmt& r) {
                   d.users.push_back(User{.name = r.col_text(0),
                                          .password_hash = r.col_text(1),
                                          .hashing_algorithm = r.col_text(2),
                                          .password = std::nullopt,
                                          .tags = split_tags(r.col_text(3))});
                   return ok_status();
                 });
  }
  if (s) {
    s = each_row(db,
                 "SELECT user, vhost, configure, write, read FROM permissions ORDER BY user, vhost",
                 [&](Stmt& r) {
                   d.permissions.push_back(Permission{.user = r.col_text(0),
                                                      .vhost = r.col_text(1),
                                                      .configure = r.col_text(2),
                                                      .write = r.col_text(3),
                                                      .read = r.col_text(4)});
                   return ok_status();
                 });
  }
  if (s) {
    s = each_row(db,
                 "SELECT user, vhost, exchange, write, read FROM topic_permissions "
                 "ORDER BY user, vhost, exchange",
                 [&](Stmt& r) {
                   d.topic_permissions.push_back(TopicPermission{.user = r.col_text(0),
                                                                 .vhost = r.col_text(1),
                                                                 .exchange = r.col_text(2),
                                                                 .write = r.col_text(3),
                                                                 .read = r.col_text(4)});
                   return ok_status();
                 });
  }
  return s;
}

Status load_exchanges(sqlite3* db, Definitions& d) {
  return each_row(db,
                  "SELECT vhost, name, type, durable, auto_delete, internal, arguments "
                  "FROM exchanges ORDER BY vhost, name",
                  [&](Stmt& r) -> Status {
                    Exchange x{.vhost = r.col_text(0),
                               .name = r.col_text(1),
                               .type = r.col_text(2),
                               .durable = r.col_int(3) != 0,
                               .auto_delete = r.col_int(4) != 0,
                               .internal = r.col_int(5) != 0,
                               .arguments = {}};
                    auto args = decode_args(r.col_blob(6), where("exchange", x.name, x.vhost));
                    if (!args) return std::move(args).error();
                    x.arguments = std::move(*args);
                    d.exchanges.push_back(std::move(x));
                    return ok_status();
                  });
}

Status load_queues(sqlite3* db, StoredDefinitions& out) {
  return each_row(db,
                  "SELECT id, vhost, name, type, durable, auto_delete, arguments "
                  "FROM queues ORDER BY id",
                  [&](Stmt& r) -> Status {
                    Queue q{.vhost = r.col_text(1),
                            .name = r.col_text(2),
                            .type = r.col_text(3),
                            .durable = r.col_int(4) != 0,
                            .auto_delete = r.col_int(5) != 0,
                            .arguments = {}};
                    auto args = decode_args(r.col_blob(6), where("queue", q.name, q.vhost));
                    if (!args) return std::move(args).error();
                    q.arguments = std::move(*args);
                    out.queue_ids.push_back(static_cast<uint64_t>(r.col_int(0)));
                    out.defs.queues.push_back(std::move(q));
                    return ok_status();
                  });
}

// Insertion order (rowid) so bindings come back in the order they were made.
Status load_bindings(sqlite3* db, Definitions& d) {
  return each_row(
      db,
      "SELECT vhost, source, destination, destination_is_exchange, routing_key, arguments "
      "FROM bindings ORDER BY rowid",
      [&](Stmt& r) -> Status {
        Binding b{.vhost = r.col_text(0),
                  .source = r.col_text(1),
                  .destination = r.col_text(2),
                  .destination_kind =
                      r.col_int(3) != 0 ? DestinationKind::kExchange : DestinationKind::kQueue,
                  .routing_key = r.col_text(4),
                  .arguments = {}};
        auto args = decode_args(r.col_blob(5), "binding " + b.source + " -> " + b.destination +
                                                   " in vhost '" + b.vhost + "'");
        if (!args) return std::move(args).error();
        b.arguments = std::move(*args);
        d.bindings.push_back(std::move(b));
        return ok_status();
      });
}

Status load_policies(sqlite3* db, StoredDefinitions& out) {
  return each_row(db,
                  "SELECT vhost, name, pattern, apply_to, priority, definition, operator_policy "
                  "FROM policies ORDER BY vhost, name",
                  [&](Stmt& r) -> Status {
                    Policy p{.vhost = r.col_text(0),
                             .name = r.col_text(1),
                             .pattern = r.col_text(2),
                             .apply_to = r.col_text(3),
                             .definition = {},
                             .priority = r.col_int(4)};
                    // Never written by pulsed: handed over undecoded, for the caller to report.
                    if (r.col_int(6) != 0) {
                      out.operator_policies.push_back(std::move(p));
                      return ok_status();
                    }
                    auto def =
                        decode_policy_definition(r.col_text(5), where("policy", p.name, p.vhost));
                    if (!def) return std::move(def).error();
                    p.definition = std::move(*def);
                    out.defs.policies.push_back(std::move(p));
                    return ok_status();
                  });
}

// User limits are attached to the users load_auth read (a row without its user, which the
// cascade on delete prevents, is dropped).
Status load_kv(sqlite3* db, StoredDefinitions& out) {
  std::map<std::string, nlohmann::json> user_limits;
  Status s =
      each_row(db, "SELECT scope, key, value FROM kv ORDER BY scope, key", [&](Stmt& r) -> Status {
        KvEntry e{.scope = r.col_text(0), .key = r.col_text(1), .value = r.col_blob(2)};
        const char* what = e.scope == kGlobalParameterScope ? "global parameter"
                           : e.scope == kVhostLimitsScope   ? "limits of vhost"
                           : e.scope == kUserLimitsScope    ? "limits of user"
                                                            : nullptr;
        if (what == nullptr) {
          out.kv.push_back(std::move(e));
          return ok_status();
        }
        auto v = nlohmann::json::parse(e.value, nullptr, false);
        if (v.is_discarded()) {
          return Error{0, "definitions database: undecodable value of " + std::string(what) + " '" +
                              e.key + "' (damaged database?)"};
        }
        if (e.scope == kVhostLimitsScope) {
          out.defs.parameters.push_back({.vhost = e.key,
                                         .component = "vhost-limits",
                                         .name = "limits",
                                         .value = std::move(v)});
        } else if (e.scope == kUserLimitsScope) {
          user_limits.emplace(e.key, std::move(v));
        } else {
          out.defs.global_parameters.push_back({.name = e.key, .value = std::move(v)});
        }
        return ok_status();
      });
  if (!s) return s;
  for (definitions::User& u : out.defs.users) {
    auto it = user_limits.find(u.name);
    if (it != user_limits.end()) u.limits = std::move(it->second);
  }
  return ok_status();
}

}  // namespace

Result<StoredDefinitions> DefinitionsStore::load_all() {
  StoredDefinitions out;
  if (auto s = exec(db_, "BEGIN"); !s) return std::move(s).error();
  Status s = load_auth(db_, out.defs);
  if (s) s = load_exchanges(db_, out.defs);
  if (s) s = load_queues(db_, out);
  if (s) s = load_bindings(db_, out.defs);
  if (s) s = load_policies(db_, out);
  if (s) s = load_kv(db_, out);
  (void)exec(db_, "COMMIT");
  if (!s) return std::move(s).error();
  return out;
}

}  // namespace pulse::store
