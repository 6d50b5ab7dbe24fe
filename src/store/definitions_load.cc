// DefinitionsStore::load_all: one read transaction, so the snapshot is consistent even if a
// writer (another connection in tests) commits meanwhile.
#include <sqlite3.h>

#include "store/definitions_store.h"
#include "store/sqlite_util.h"

namespace pulse::store {
namespace {

template <typename Fn>
Status each_row(sqlite3* db, const char* sql, Fn&& fn) {
  Stmt st(db, sql);
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) return ok_status();
    fn(st);
  }
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<Definitions> DefinitionsStore::load_all() {
  Definitions d;
  if (auto s = exec(db_, "BEGIN"); !s) return std::move(s).error();
  auto s = [&]() -> Status {
    if (auto e = each_row(db_, "SELECT name, metadata FROM vhosts ORDER BY name",
                          [&](Stmt& r) {
                            d.vhosts.push_back({r.col_text(0), r.col_text(1)});
                          });
        !e) {
      return e;
    }
    if (auto e = each_row(db_, "SELECT * FROM users ORDER BY name",
                          [&](Stmt& r) {
                            d.users.push_back({r.col_text(0), r.col_text(1), r.col_text(2),
                                               split(r.col_text(3))});
                          });
        !e) {
      return e;
    }
    if (auto e = each_row(db_, "SELECT * FROM permissions ORDER BY user, vhost",
                          [&](Stmt& r) {
                            d.permissions.push_back({r.col_text(0), r.col_text(1), r.col_text(2),
                                                     r.col_text(3), r.col_text(4)});
                          });
        !e) {
      return e;
    }
    if (auto e =
            each_row(db_, "SELECT * FROM topic_permissions ORDER BY user, vhost, exchange",
                     [&](Stmt& r) {
                       d.topic_permissions.push_back({r.col_text(0), r.col_text(1), r.col_text(2),
                                                      r.col_text(3), r.col_text(4)});
                     });
        !e) {
      return e;
    }
    if (auto e = each_row(db_, "SELECT * FROM exchanges ORDER BY vhost, name",
                          [&](Stmt& r) {
                            d.exchanges.push_back({r.col_text(0), r.col_text(1), r.col_text(2),
                                                   r.col_int(3) != 0, r.col_int(4) != 0,
                                                   r.col_int(5) != 0, r.col_blob(6)});
                          });
        !e) {
      return e;
    }
    if (auto e = each_row(db_,
                          "SELECT id, vhost, name, type, durable, auto_delete, arguments "
                          "FROM queues ORDER BY id",
                          [&](Stmt& r) {
                            d.queues.push_back({static_cast<uint64_t>(r.col_int(0)), r.col_text(1),
                                                r.col_text(2), r.col_text(3), r.col_int(4) != 0,
                                                r.col_int(5) != 0, r.col_blob(6)});
                          });
        !e) {
      return e;
    }
    // Insertion order (rowid) so bindings come back in the order they were made.
    if (auto e = each_row(db_, "SELECT * FROM bindings ORDER BY rowid",
                          [&](Stmt& r) {
                            d.bindings.push_back({r.col_text(0), r.col_text(1), r.col_text(2),
                                                  r.col_int(3) != 0, r.col_text(4), r.col_blob(5)});
                          });
        !e) {
      return e;
    }
    if (auto e = each_row(db_,
                          "SELECT vhost, name, pattern, apply_to, priority, definition, "
                          "operator_policy FROM policies ORDER BY vhost, name",
                          [&](Stmt& r) {
                            d.policies.push_back({r.col_text(0), r.col_text(1), r.col_text(2),
                                                  r.col_text(3), r.col_int(4), r.col_text(5),
                                                  r.col_int(6) != 0});
                          });
        !e) {
      return e;
    }
    return each_row(db_, "SELECT * FROM kv ORDER BY scope, key", [&](Stmt& r) {
      d.kv.push_back({r.col_text(0), r.col_text(1), r.col_blob(2)});
    });
  }();
  (void)exec(db_, "COMMIT");
  if (!s) return std::move(s).error();
  return d;
}

}  // namespace pulse::store
