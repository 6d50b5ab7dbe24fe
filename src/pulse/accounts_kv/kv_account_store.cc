#include "pulse/accounts_kv/kv_account_store.h"

namespace pulse::accounts {

Result<std::vector<Record>> KvAccountStore::load_all() {
  auto rows = store_.load_scope(scope_);
  if (!rows) return std::move(rows).error();
  std::vector<Record> out;
  out.reserve(rows->size());
  for (const auto& r : *rows)
    out.push_back(Record{r.key, std::string(r.value.begin(), r.value.end())});
  return out;
}

Status KvAccountStore::put(const Record& record) {
  return store_.put_kv(store::KvEntry{
      .scope = scope_, .key = record.key, .value = {record.json.begin(), record.json.end()}});
}

Status KvAccountStore::remove(const std::string& key) {
  return store_.delete_kv(scope_, key);
}

}  // namespace pulse::accounts
