#pragma once
// The AccountStore of pulsed: one kv row per record in the definitions database, scope
// "pulse.owner" (store::kPulseOwnerScope), key the record's key, value its JSON text. Each put
// or remove is one store transaction (or joins the one under way, e.g. a definitions import).
//
// Thread: the definitions store's owner (the broker event loop), like the persister.
#include <string>
#include <utility>

#include "pulse/accounts/account_store.h"
#include "store/definitions_store.h"

namespace pulse::accounts {

// The kv scope of the guardian's state set through /api/pulse (pulse/api: settings overrides,
// unbounded flags), kept apart from the account records.
inline constexpr const char* kPulseGuardianScope = "pulse.guardian";

class KvAccountStore : public AccountStore {
 public:
  explicit KvAccountStore(store::DefinitionsStore& store,
                          std::string scope = store::kPulseOwnerScope)
      : store_(store), scope_(std::move(scope)) {}

  Result<std::vector<Record>> load_all() override;
  Status put(const Record& record) override;
  Status remove(const std::string& key) override;

 private:
  store::DefinitionsStore& store_;
  std::string scope_;
};

}  // namespace pulse::accounts
