#pragma once
// Minimal RAII over the SQLite C API, private to the store: errors become Error values with
// SQLite's message, statements are finalized on scope exit.
#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse::store {

Error sqlite_error(sqlite3* db, std::string_view what);

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Bind by 1-based position, in call order.
  Stmt& text(std::string_view v);
  Stmt& blob(std::span<const uint8_t> v);
  Stmt& integer(int64_t v);

  // SQLITE_ROW → true, SQLITE_DONE → false; anything else is an error.
  Result<bool> step();
  Status run();  // step to completion of a statement without rows

  std::string col_text(int i) const;
  std::vector<uint8_t> col_blob(int i) const;
  int64_t col_int(int i) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int prepare_rc_;
  int next_ = 1;
};

Status exec(sqlite3* db, const char* sql);

}  // namespace pulse::store
