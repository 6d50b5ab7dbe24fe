#pragma once
// The account model (PulseGuardian's owners and Pulse users, Taskcluster's namespace claims) and
// its records: each object is one record, a key ("owner/<email>", "user/<name>", "claim/<ns>")
// and a JSON text, which is what every AccountStore keeps.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pulse/admin/broker_admin.h"

namespace pulse::accounts {

using admin::Clock;
using admin::TimePoint;

// A person, by email. Owners sign in (later: the UI) and own Pulse users.
struct Owner {
  std::string email;
  std::string display_name;
  bool admin = false;  // sees and manages every user and queue
  TimePoint created{};
  bool login = false;  // Pulse made the owner's broker user (`email`, tag management)
  bool operator==(const Owner&) const = default;
};

// A broker account an owner created: its namespace is exchange/<name>/ and queue/<name>/.
struct PulseUser {
  std::string name;
  std::vector<std::string> owners;  // owner emails; PulseGuardian allowed several
  TimePoint created{};
  std::string description;
  bool operator==(const PulseUser&) const = default;
};

// A namespace claimed for a while (Taskcluster's model): two broker users share the
// namespace's permissions and take turns, so credentials rotate without a gap.
struct NamespaceClaim {
  std::string ns;
  TimePoint expires{};
  std::string contact;
  std::array<std::string, 2> users;  // "<ns>-1", "<ns>-2"
  int current = 0;                   // index into users: the one claims hand out
  // The current user's password: a refreshed claim returns it. A secret like the broker's
  // password hashes, kept where they are (the definitions store, a 0600 file).
  std::string password;
  TimePoint created{};
  TimePoint last_rotation{};
  bool operator==(const NamespaceClaim&) const = default;
};

// One stored record: what an AccountStore keeps, opaque to it.
struct Record {
  std::string key;
  std::string json;
  bool operator==(const Record&) const = default;
};

std::string owner_key(std::string_view email);
std::string user_key(std::string_view name);
std::string claim_key(std::string_view ns);

Record to_record(const Owner& o);
Record to_record(const PulseUser& u);
Record to_record(const NamespaceClaim& c);

// Everything the records hold. A record that does not parse is an error naming its key (a
// damaged store is not silently dropped).
struct AccountState {
  std::vector<Owner> owners;
  std::vector<PulseUser> users;
  std::vector<NamespaceClaim> claims;
};
Result<AccountState> parse_records(const std::vector<Record>& records);

}  // namespace pulse::accounts
