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

  // --- owners
  Result<Owner> create_owner(const std::string& email, const std::string& display_name, bool admin,
                             TimePoint now);
  std::vector<Owner> owners() const;

  // --- Pulse users, acting as owner `actor` (an admin owner may act on every user)
  // Creates broker user `name` (no tags) with exactly the reference's permissions on every
  // configured vhost, owned by `actor`.
  Result<PulseUser> create_user(const std::string& actor, const std::string& name,
                                const std::string& password, const std::string& description,
                                TimePoint now);
  // A new password on the same broker user: permissions, queues and connections stay.
  Status change_password(const std::string& actor, const std::string& name,
                         const std::string& password);
  // The broker user goes (the broker closes its connections); with `delete_queues` its
  // queue/<name>/... queues on every vhost too.
  Status delete_user(const std::string& actor, const std::string& name, bool delete_queues);
  // The users `actor` owns (every user for an admin), each with its queues.
  Result<std::vector<UserQueues>> users_of(const std::string& actor);

  // --- namespace claims
  // Creates the claim (users <ns>-1 and <ns>-2 with the namespace's permissions) or refreshes
  // it (new expiry and contact); returns the current user's credentials.
  Result<Credentials> claim(const std::string& ns, TimePoint expires, const std::string& contact,
                            TimePoint now);
  // Every claim due (rotation_interval since its last rotation, not expired): a fresh password
  // on the user not handed out, which becomes the current one. Connections of either user stay.
  SweepReport rotate(TimePoint now);
  // Every claim past its expiry: its queues (queue/<ns>/...) and exchanges (exchange/<ns>/...)
  // on every vhost, both users and their connections go, then the claim.
  SweepReport expire(TimePoint now);
  std::vector<NamespaceClaim> claims() const;

 private:
  Result<const Owner*> acting(const std::string& actor) const;
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
