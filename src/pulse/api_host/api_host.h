#pragma once
// Pulse's accounts and API behind an HTTP server, the same in pulsed and in pulse-guardian: an
// AccountService over the process's BrokerAdmin and AccountStore, PulseApi (/api/pulse/...)
// with its guardian layer in a second store, the claims' rotation and expiry swept from a
// timer on the io_context, and the translation of httpd's requests and responses. The caller
// authenticates (pulsed: the management API's Basic auth; pulse-guardian: RabbitMQ's whoami)
// and passes the principal in.
//
// Thread: the io_context's one thread (pulsed's event loop; pulse-guardian's loop), where the
// BrokerAdmin, the stores and the guardian's runner are used too.
#include <optional>
#include <string>
#include <utility>  // Boost 1.74's asio uses std::exchange without including it (GCC 12)
// clang-format off
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
// clang-format on

#include "httpd/message.h"
#include "pulse/accounts/account_service.h"
#include "pulse/api/api.h"

namespace pulse::api {

class ApiHost {
 public:
  // `admin`, `accounts` (the owners, users and claims) and `guardian` (what the API sets of
  // the guardian) must outlive the host.
  ApiHost(boost::asio::io_context& io, admin::BrokerAdmin& admin, accounts::AccountStore& accounts,
          accounts::AccountStore& guardian, accounts::AccountSettings settings);

  // Reads the stored records (an error: a damaged store, which stops the start) and schedules
  // the first sweep.
  Status start();
  void stop();

  // The running guardian behind /api/pulse/guardian...; the API's stored layer is applied to
  // it (logged when it no longer fits the configuration).
  void attach_guardian(guardian::GuardianRunner& runner, const guardian::NoticeLog& notices);
  void detach_guardian() { api_.detach_guardian(); }
  // The push engine behind /api/pulse/subscriptions (PulseApi::attach_push).
  void attach_push(push::Engine* engine, std::function<void()> changed = {}) {
    api_.attach_push(engine, std::move(changed));
  }
  // SIGHUP: new configured guardian settings under the API's stored layer (an error: they do
  // not fit it, the running ones stay) and new pulse.accounts.* settings (the sweep is
  // rescheduled: a shorter rotation interval may make a claim due now).
  Status rebase_guardian(guardian::GuardianSettings settings) {
    return api_.rebase_guardian(std::move(settings));
  }
  void set_account_settings(accounts::AccountSettings settings);

  // Definitions export/import (api/definitions_section.h): the "pulse" object, nothing
  // without Pulse state.
  std::optional<nlohmann::json> export_section() const { return api_.export_section(); }
  // Refuses (400) a guardian layer that does not fit the running guardian; nothing changes.
  Status check_import(const PulseSection& section) const { return api_.check_import(section); }
  // check_import, then every record in one `transaction` (same key: replaced), then the
  // accounts and the guardian's layer re-read and applied. On failure nothing changed.
  Status import_section(const PulseSection& section, const PulseApi::Transaction& transaction);

  // The address the guardian mails about `owner`'s queues: the first owner of the Pulse user
  // of that name; none when there is no such user (then pulse.smtp.owner_domain decides).
  std::optional<std::string> owner_address(const std::string& owner) const;

  // `req` is below /api and its segments start with "pulse"; `who` signed in.
  httpd::Response handle(const httpd::Request& req, const Principal& who);

  accounts::AccountService& accounts() { return accounts_; }

 private:
  void schedule();
  void sweep();

  accounts::AccountService accounts_;
  PulseApi api_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace pulse::api
