#include "store/sqlite_util.h"

namespace pulse::store {

Error sqlite_error(sqlite3* db, std::string_view what) {
  return Error{541, "INTERNAL_ERROR - definitions store: " + std::string(what) + ": " +
                        (db ? sqlite3_errmsg(db) : "out of memory")};
}

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db) {
  prepare_rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr);
}

Stmt::~Stmt() {
  sqlite3_finalize(st_);
}

Stmt& Stmt::text(std::string_view v) {
  if (st_) sqlite3_bind_text(st_, next_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  ++next_;
  return *this;
}

Stmt& Stmt::blob(std::span<const uint8_t> v) {
  // A zero-length blob must still be a blob, not NULL: bind a static empty buffer.
  static const uint8_t kEmpty = 0;
  if (st_) {
    sqlite3_bind_blob(st_, next_, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  ++next_;
  return *this;
}

Stmt& Stmt::integer(int64_t v) {
  if (st_) sqlite3_bind_int64(st_, next_, v);
  ++next_;
  return *this;
}

Result<bool> Stmt::step() {
  if (prepare_rc_ != SQLITE_OK) return sqlite_error(db_, "prepare");
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "step");
}

Status Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return std::move(r).error();
    if (!*r) return ok_status();
  }
}

std::string Stmt::col_text(int i) const {
  const unsigned char* p = sqlite3_column_text(st_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, i))
           : std::string();
}

std::vector<uint8_t> Stmt::col_blob(int i) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st_, i));
  return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(st_, i)) : std::vector<uint8_t>();
}

int64_t Stmt::col_int(int i) const {
  return sqlite3_column_int64(st_, i);
}

Status exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return Error{541, "INTERNAL_ERROR - definitions store: " + text};
  }
  return ok_status();
}

}  // namespace pulse::store
