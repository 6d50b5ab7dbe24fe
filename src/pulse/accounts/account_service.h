#pragma once
// The account service: owners, the Pulse users they own, and namespace claims with rotating
// credentials (pulse-reference.md; PulseGuardian's account model, Taskcluster's claims), over a
// BrokerAdmin (pulsed in-process or a RabbitMQ node's management API) and an AccountStore.
//
// Errors are values with HTTP-like codes, so the future /api/pulse/... maps them directly:
// 400 a bad name, password, expiry or reserved name; 403 the acting owner does not own the
// user; 404 no such owner, user or claim; 409 the name is taken (by a Pulse user, a claim or
// any broker user); 500 the store failed; a broker failure keeps the BrokerAdmin's code (503
// unreachable).
//
// Thread: the owner's one thread (pulsed's event loop with the in-process admin, pulse-guardian's
// loop with the HTTP one); synchronous and not thread-safe, like BrokerAdmin.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "pulse/accounts/account_store.h"
#include "pulse/accounts/model.h"
#include "pulse/accounts/settings.h"
#include "pulse/admin/broker_admin.h"

namespace pulse::accounts {

inline constexpr uint16_t kBadRequest = 400;
inline constexpr uint16_t kForbidden = 403;
inline constexpr uint16_t kNotFound = 404;
inline constexpr uint16_t kConflict = 409;
inline constexpr uint16_t kStoreFailed = 500;

// What a claim hands out (Taskcluster's claimNamespace answer).
struct Credentials {
  std::string ns;
  std::string username;
  std::string password;
  std::string connection_string;
  TimePoint expires{};
  // Claim again before this to get fresh credentials: the ones handed out stay valid for one
  // more rotation after it.
  TimePoint reclaim_at{};
};

// Who acts on Pulse users: an owner (by email), or a broker administrator, who acts on every
// user whether or not an owner record has its name. A plain string is an owner's email.
struct Actor {
  std::string name;
  bool broker_admin = false;
  Actor(std::string email) : name(std::move(email)) {}
  Actor(const char* email) : name(email) {}
  static Actor administrator(std::string name) {
    Actor a(std::move(name));
    a.broker_admin = true;
    return a;
  }
};

// Changes to an owner; an absent field stays as it is.
struct OwnerUpdate {
  std::optional<std::string> display_name;
  std::optional<bool> admin;
};

struct UserQueues {
  PulseUser user;
  std::vector<admin::QueueInfo> queues;  // queue/<user>/... on every vhost
};

// What a rotate or expire sweep did: the namespaces done, and what failed (retried next sweep).
struct SweepReport {
  std::vector<std::string> done;
  std::vector<Error> errors;
};

class AccountService {
 public:
  // `admin` and `store` must outlive the service. `random` fills a password; by default the
  // system's random device (tests may fix it).
  AccountService(admin::BrokerAdmin& admin, AccountStore& store, AccountSettings settings,
                 std::function<std::string()> random_password = {});

  // Reads the store; until then the service knows nothing.
  Status load();
  const AccountSettings& settings() const { return settings_; }
  // New settings (a config reload) for what is done from now on: existing users keep the
  // vhosts they were granted, claims rotate at the new interval from their last rotation.
  void set_settings(AccountSettings settings) { settings_ = std::move(settings); }
  // Every owner, Pulse user and claim, as the records hold them (a definitions export).
  AccountState state() const;
  // A definitions import: the records (parse_records-checked) written to the store as they
  // are, same key replaced; load() makes them the service's.
  Status put_records(const std::vector<Record>& records);

  // --- owners
  Result<Owner> create_owner(const std::string& email, const std::string& display_name, bool admin,
                             TimePoint now);
  std::vector<Owner> owners() const;
  std::optional<Owner> find_owner(const std::string& email) const;
  Result<Owner> update_owner(const std::string& email, const OwnerUpdate& update);
  // The owner's sign-in: broker user `email` with tag management and no vhost permission, so
  // the same Basic auth works on pulsed's API and on a RabbitMQ node's. Made on first use (a
  // broker user of that name made outside Pulse is never taken over: 409), then only its
  // password changes (its tags stay).
  Status set_owner_password(const std::string& email, const std::string& password);
  // 409 while the owner still owns a Pulse user; its broker login (if Pulse made it) goes too.
  Status delete_owner(const std::string& email);
  // The Pulse users `email` is one of the owners of.
  std::vector<std::string> users_owned_by(const std::string& email) const;

  // --- Pulse users, acting as owner `actor` (an admin owner may act on every user)
  // Creates broker user `name` (no tags) with exactly the reference's permissions on every
  // configured vhost, owned by `owner` (default: the actor; another owner only for admins).
  Result<PulseUser> create_user(const Actor& actor, const std::string& name,
                                const std::string& password, const std::string& description,
                                TimePoint now, const std::string& owner = {});
  // A new password on the same broker user: permissions, queues and connections stay.
  Status change_password(const Actor& actor, const std::string& name, const std::string& password);
  Status set_description(const Actor& actor, const std::string& name,
                         const std::string& description);
  // The broker user goes (the broker closes its connections); with `delete_queues` its
  // queue/<name>/... queues on every vhost too.
  Status delete_user(const Actor& actor, const std::string& name, bool delete_queues);
  // The users `actor` owns (every user for an admin), each with its queues.
  Result<std::vector<UserQueues>> users_of(const Actor& actor);
  std::optional<PulseUser> find_user(const std::string& name) const;
  // One user the actor owns (404 none, 403 another owner's), with its queues.
  Result<UserQueues> user(const Actor& actor, const std::string& name);

  // --- namespace claims
  // Creates the claim (users <ns>-1 and <ns>-2 with the namespace's permissions) or refreshes
  // it (new expiry; the contact only when one is given); returns the current user's
  // credentials.
  Result<Credentials> claim(const std::string& ns, TimePoint expires,
                            const std::optional<std::string>& contact, TimePoint now);
  // Every claim due (rotation_interval since its last rotation, not expired): a fresh password
  // on the user not handed out, which becomes the current one. Connections of either user stay.
  SweepReport rotate(TimePoint now);
  // Every claim past its expiry: its queues (queue/<ns>/...) and exchanges (exchange/<ns>/...)
  // on every vhost, both users and their connections go, then the claim.
  SweepReport expire(TimePoint now);
  std::vector<NamespaceClaim> claims() const;
  // Ends a claim now, as an expiry would (404 no such claim).
  Status release(const std::string& ns);

 private:
  // The actor as an owner (a broker administrator with no owner record: an admin one).
  Result<Owner> acting(const Actor& actor) const;
  // Both users, their connections, the namespace's queues and exchanges, then the record.
  Status clear_claim(const NamespaceClaim& c);
  Result<PulseUser*> owned(const Owner& actor, const std::string& name);
  Status check_new_name(const std::string& name, const char* what);
  Result<bool> broker_has_user(const std::string& name);
  Status grant(const std::string& user, const std::string& ns);
  Status delete_namespace_queues(const std::string& ns);
  Status delete_namespace_exchanges(const std::string& ns);
  Status close_connections_of(const std::vector<std::string>& users);
  Result<Credentials> credentials(const NamespaceClaim& c) const;
  std::string new_password();
  Status save(const Record& r);

  admin::BrokerAdmin& admin_;
  AccountStore& store_;
  AccountSettings settings_;
  std::function<std::string()> random_password_;
  std::map<std::string, Owner> owners_;
  std::map<std::string, PulseUser> users_;
  std::map<std::string, NamespaceClaim> claims_;
};

}  // namespace pulse::accounts
