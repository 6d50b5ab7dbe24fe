#pragma once
// Pulse's HTTP API (/api/pulse/...) as a sans-IO router: owners, Pulse users and their queues,
// namespace claims, the guardian's settings, notices and unbounded flags (README.md has the
// table). Whoever serves HTTP authenticates the caller (pulsed: the management API's Basic
// auth against the broker's users) and hands the request with its principal to handle().
//
// Who may do what: a broker administrator (tag administrator) and an owner marked admin may do
// everything; an owner (a broker user named by the owner's email, made by PUT /owners/{email}
// with a password) sees and changes itself, its Pulse users and their queues, and reads the
// guardian's settings and its own users' notices; a monitoring user reads the guardian's
// state and every notice; anyone else may only ask GET /whoami.
//
// Thread: the owner's one thread (pulsed's event loop), like the AccountService, the runner
// and the stores it calls; synchronous.
#include <functional>
#include <optional>

#include "pulse/accounts/account_service.h"
#include "pulse/api/definitions_section.h"
#include "pulse/api/guardian_state.h"
#include "pulse/api/request.h"
#include "pulse/guardian_run/notice_log.h"
#include "pulse/guardian_run/runner.h"
#include "pulse/push/engine.h"

namespace pulse::api {

class PulseApi {
 public:
  // `accounts` and `guardian_store` (where the guardian's API-set state is kept) must outlive
  // the API. `clock` is "now" (tests fix it).
  PulseApi(accounts::AccountService& accounts, accounts::AccountStore& guardian_store,
           std::function<TimePoint()> clock = {});

  // Reads the guardian's stored state (the accounts are the AccountService's to load).
  Status load();

  // Plugs the running guardian in: its current settings become the base under what the API
  // stored, and the merged settings are applied now. An error (the stored overrides no longer
  // fit the configured settings) leaves the runner as it was and the endpoints answering;
  // the caller logs it. Until attached, /guardian... answers 503 "the guardian is not running".
  // Both must outlive the API or be detached.
  Status attach_guardian(guardian::GuardianRunner& runner, const guardian::NoticeLog& notices);
  void detach_guardian();

  // Plugs the push engine in behind /subscriptions (until then 503); `changed` is called after
  // the API changed a subscription (the host polls the engine at once). Null detaches.
  void attach_push(push::Engine* engine, std::function<void()> changed = {}) {
    push_ = engine;
    push_changed_ = std::move(changed);
  }

  ApiResponse handle(const ApiRequest& req);

  // --- definitions export/import and config reloads (definitions_section.h)
  // The "pulse" object of a whole-node export; nothing without Pulse state.
  std::optional<nlohmann::json> export_section() const;
  // Whether `section`'s guardian layer, over what is stored, fits the running guardian's
  // configured settings (400 naming the rule when not). Nothing changes.
  Status check_import(const PulseSection& section) const;
  // Runs its argument as one store transaction (pulsed: DefinitionsStore::transaction).
  using Transaction = std::function<Status(const std::function<Status()>&)>;
  // check_import, then every account record (same key: replaced) and the guardian's layer
  // written in one `transaction`, then the accounts and the layer re-read from the store (the
  // records written, or, rolled back, those before) and applied to the running guardian.
  Status import_section(const PulseSection& section, const Transaction& transaction);
  // Re-reads the guardian's stored layer and applies it over the configured settings (after an
  // import wrote the store, or to undo a failed one).
  Status reload_guardian();
  // New configured settings (SIGHUP) under the stored layer. When the merge does not validate,
  // the runner keeps what it had and the reason is returned.
  Status rebase_guardian(guardian::GuardianSettings base);

  // The principal as Pulse sees it.
  struct Caller {
    std::string name;
    bool owner = false;  // an owner record has this email
    bool admin = false;  // broker administrator, or an owner marked admin
    bool broker_admin = false;
    // Tag monitoring (or administrator): reads the guardian's state and every notice, as
    // RabbitMQ's monitoring users read every queue.
    bool monitor = false;
    accounts::Actor actor() const;
  };
  Caller caller_of(const Principal& p) const;

 private:
  ApiResponse dispatch(const ApiRequest& req, const Caller& caller);
  ApiResponse whoami(const ApiRequest& req, const Caller& caller);
  ApiResponse owners(const ApiRequest& req, const Caller& caller);
  ApiResponse users(const ApiRequest& req, const Caller& caller);
  ApiResponse namespaces(const ApiRequest& req, const Caller& caller);
  ApiResponse guardian(const ApiRequest& req, const Caller& caller);
  ApiResponse guardian_settings(const ApiRequest& req, const Caller& caller);
  ApiResponse guardian_owner(const ApiRequest& req, const Caller& caller);
  ApiResponse guardian_notices(const ApiRequest& req, const Caller& caller);
  // POST /guardian/notices: an administrator's notice to a queue's owner (notice_routes.cc).
  ApiResponse operator_notice(const ApiRequest& req, const Caller& caller);
  ApiResponse guardian_unbounded(const ApiRequest& req, const Caller& caller);
  // /subscriptions (subscription_routes.cc).
  ApiResponse subscriptions(const ApiRequest& req, const Caller& caller);
  nlohmann::json subscription_json(const push::Subscription& s) const;
  nlohmann::json guardian_json() const;
  // Validates and applies (runner) then stores `next`.
  ApiResponse apply_overrides(const GuardianOverrides& next);

  accounts::AccountService& accounts_;
  GuardianState guardian_state_;
  std::function<TimePoint()> clock_;
  guardian::GuardianRunner* runner_ = nullptr;
  const guardian::NoticeLog* notices_ = nullptr;
  guardian::GuardianSettings base_;  // the runner's settings when attached
  push::Engine* push_ = nullptr;
  std::function<void()> push_changed_;
};

}  // namespace pulse::api
