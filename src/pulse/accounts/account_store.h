#pragma once
// Where the account service keeps its records (model.h). Three backs: in memory (tests), a JSON
// file (the standalone pulse-guardian) and pulsed's definitions store (kv scope "pulse.owner",
// src/pulse/accounts_kv), so the interface is that of a key/value table.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "pulse/accounts/model.h"

namespace pulse::accounts {

// Synchronous; owned by the one thread that runs the service. A put or remove returns when the
// change is durable (as durable as the back is).
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  virtual Result<std::vector<Record>> load_all() = 0;
  // Creates or replaces the record with `record.key`.
  virtual Status put(const Record& record) = 0;
  // A missing key is no error.
  virtual Status remove(const std::string& key) = 0;
};

class MemoryAccountStore : public AccountStore {
 public:
  Result<std::vector<Record>> load_all() override;
  Status put(const Record& record) override;
  Status remove(const std::string& key) override;

  const std::map<std::string, std::string>& records() const { return records_; }

 private:
  std::map<std::string, std::string> records_;
};

// One JSON document {"<key>": <record object>, ...}, rewritten whole on each change (write to a
// temporary file, fsync, rename: a crash leaves the old or the new file), mode 0600 since claim
// records hold passwords. A missing file is an empty store.
class JsonFileAccountStore : public AccountStore {
 public:
  explicit JsonFileAccountStore(std::string path) : path_(std::move(path)) {}

  Result<std::vector<Record>> load_all() override;
  Status put(const Record& record) override;
  Status remove(const std::string& key) override;

 private:
  Status load_if_needed();
  Status save();

  std::string path_;
  bool loaded_ = false;
  std::map<std::string, std::string> records_;
};

// One scope of another store: keys are kept as "<scope>:<key>" and only this scope's records
// are loaded, so one JSON file holds pulse-guardian's accounts and its guardian overrides, as
// pulsed's kv table holds the scopes pulse.owner and pulse.guardian.
class ScopedAccountStore : public AccountStore {
 public:
  // `inner` must outlive this store.
  ScopedAccountStore(AccountStore& inner, std::string scope)
      : inner_(inner), prefix_(std::move(scope) + ":") {}

  Result<std::vector<Record>> load_all() override;
  Status put(const Record& record) override;
  Status remove(const std::string& key) override;

 private:
  AccountStore& inner_;
  std::string prefix_;
};

}  // namespace pulse::accounts
