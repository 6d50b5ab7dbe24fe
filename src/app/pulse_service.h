#pragma once
// Pulse's accounts and API inside pulsed: an AccountService over the in-process
// LocalBrokerAdmin and the definitions store (kv scope pulse.owner), PulseApi (/api/pulse/...,
// its guardian layer in kv scope pulse.guardian) served through the management API's
// Hooks::pulse_api, and the claims' rotation and expiry swept from a timer on the event loop.
//
// Thread: the event loop, like the management API, the store and the guardian.
#include <optional>
#include <string>

#include "app/management.h"
#include "http/api.h"
#include "pulse/accounts/account_service.h"
#include "pulse/accounts_kv/kv_account_store.h"
#include "pulse/admin_local/local_broker_admin.h"
#include "pulse/api/api.h"
#include "server/asio.h"

namespace pulse::app {

// The "pulse" section of a definitions file (pulsed's boot-time --definitions,
// load_definitions, definitions.local.path): nothing when the file has none; an error naming
// the file and the entry when it does not parse.
Result<std::optional<api::PulseSection>> read_pulse_section(const std::string& path);

class PulseService {
 public:
  // `ctx` must outlive the service.
  PulseService(boost::asio::io_context& io, ManagementContext& ctx,
               accounts::AccountSettings settings);

  // Reads the stored records (an error: a damaged store, which stops the start) and schedules
  // the first sweep.
  Status start();
  void stop();

  // The running guardian behind /api/pulse/guardian...; the API's stored layer is applied to
  // it (logged when it no longer fits the configuration).
  void attach_guardian(guardian::GuardianRunner& runner, const guardian::NoticeLog& notices);

  // The address the guardian mails about `owner`'s queues: the first owner of the Pulse user
  // of that name; none when there is no such user (then pulse.smtp.owner_domain decides).
  std::optional<std::string> owner_address(const std::string& owner) const;

  void detach_guardian() { api_.detach_guardian(); }
  // SIGHUP: new pulse.guardian.* settings under the API's stored layer (an error: they do not
  // fit it, the running ones stay) and new pulse.accounts.* settings.
  Status rebase_guardian(guardian::GuardianSettings settings) {
    return api_.rebase_guardian(std::move(settings));
  }
  void set_account_settings(accounts::AccountSettings settings);

  // Definitions export/import (api/definitions_section.h): the "pulse" object, nothing
  // without Pulse state.
  std::optional<nlohmann::json> export_section() const { return api_.export_section(); }
  // Refuses (400) a guardian layer that does not fit the running guardian; nothing changes.
  Status check_import(const api::PulseSection& section) const { return api_.check_import(section); }
  // check_import, then every record in one store transaction (same key: replaced), then the
  // accounts and the guardian's layer re-read and applied. On failure nothing changed.
  Status import_section(const api::PulseSection& section);

  // Hooks::pulse_api: `req`'s segments start with "pulse".
  http::Response handle(const http::Request& req, const auth::User& user);

 private:
  void schedule();
  void sweep();

  store::DefinitionsStore& store_;
  admin::LocalBrokerAdmin admin_;
  accounts::KvAccountStore account_store_;
  accounts::KvAccountStore guardian_store_;
  accounts::AccountService accounts_;
  api::PulseApi api_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace pulse::app
