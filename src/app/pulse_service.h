#pragma once
// Pulse's accounts and API inside pulsed: pulse/api_host's ApiHost (the AccountService,
// PulseApi, the claims' sweep timer; pulse-guardian runs the same) over the in-process
// LocalBrokerAdmin and the definitions store (kv scopes pulse.owner and pulse.guardian),
// served through the management API's Hooks::pulse_api.
//
// Thread: the event loop, like the management API, the store and the guardian.
#include <optional>
#include <string>

#include "app/management.h"
#include "http/api.h"
#include "pulse/accounts/account_service.h"
#include "pulse/accounts_kv/kv_account_store.h"
#include "pulse/admin_local/local_broker_admin.h"
#include "pulse/api_host/api_host.h"
#include "pulse/push_host/push_host.h"
#include "pulse/push_local/local_source.h"
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
               accounts::AccountSettings settings, push::Settings push = {});

  // Reads the stored records (an error: a damaged store, which stops the start) and schedules
  // the first sweep.
  // Then starts the push subscriptions (kv scope pulse.push) behind /api/pulse/subscriptions.
  Status start();
  void stop() {
    host_.attach_push(nullptr);
    push_.stop();
    host_.stop();
  }

  // The running guardian behind /api/pulse/guardian...
  void attach_guardian(guardian::GuardianRunner& runner, const guardian::NoticeLog& notices) {
    host_.attach_guardian(runner, notices);
  }

  // The address the guardian mails about `owner`'s queues (api_host.h).
  std::optional<std::string> owner_address(const std::string& owner) const {
    return host_.owner_address(owner);
  }

  void detach_guardian() { host_.detach_guardian(); }
  // SIGHUP (api_host.h).
  Status rebase_guardian(guardian::GuardianSettings settings) {
    return host_.rebase_guardian(std::move(settings));
  }
  void set_account_settings(accounts::AccountSettings settings) {
    host_.set_account_settings(std::move(settings));
  }

  // Definitions export/import (api_host.h); the import's records go in one transaction of the
  // definitions store.
  std::optional<nlohmann::json> export_section() const { return host_.export_section(); }
  Status check_import(const api::PulseSection& section) const {
    return host_.check_import(section);
  }
  Status import_section(const api::PulseSection& section);

  // Hooks::pulse_api: `req`'s segments start with "pulse".
  http::Response handle(const http::Request& req, const auth::User& user) {
    return host_.handle(req, api::Principal{user.name, user.tags});
  }

 private:
  store::DefinitionsStore& store_;
  admin::LocalBrokerAdmin admin_;
  accounts::KvAccountStore account_store_;
  accounts::KvAccountStore guardian_store_;
  api::ApiHost host_;
  push::LocalSource push_source_;
  accounts::KvAccountStore push_store_;
  push::PushHost push_;
};

}  // namespace pulse::app
