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

  // Hooks::pulse_api: `req`'s segments start with "pulse".
  http::Response handle(const http::Request& req, const auth::User& user);

 private:
  void schedule();
  void sweep();

  admin::LocalBrokerAdmin admin_;
  accounts::KvAccountStore account_store_;
  accounts::KvAccountStore guardian_store_;
  accounts::AccountService accounts_;
  api::PulseApi api_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace pulse::app
