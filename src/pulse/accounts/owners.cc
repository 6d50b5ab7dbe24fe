// Owners beyond their creation: changes, their sign-in (a broker user named by the email) and
// their removal.
#include <algorithm>
#include <utility>

#include "pulse/accounts/account_service.h"
#include "pulse/admin/naming.h"

namespace pulse::accounts {

namespace {

constexpr const char* kOwnerTag = "management";

}  // namespace

std::optional<Owner> AccountService::find_owner(const std::string& email) const {
  auto it = owners_.find(email);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::optional<PulseUser> AccountService::find_user(const std::string& name) const {
  auto it = users_.find(name);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> AccountService::users_owned_by(const std::string& email) const {
  std::vector<std::string> out;
  for (const auto& [name, u] : users_)
    if (std::find(u.owners.begin(), u.owners.end(), email) != u.owners.end()) out.push_back(name);
  return out;
}

Result<Owner> AccountService::update_owner(const std::string& email, const OwnerUpdate& update) {
  auto it = owners_.find(email);
  if (it == owners_.end()) return Error{kNotFound, "no owner '" + email + "'"};
  Owner o = it->second;
  if (update.display_name) o.display_name = *update.display_name;
  if (update.admin) o.admin = *update.admin;
  if (auto s = save(to_record(o)); !s) return std::move(s).error();
  it->second = o;
  return o;
}

Status AccountService::set_owner_password(const std::string& email, const std::string& password) {
  auto it = owners_.find(email);
  if (it == owners_.end()) return Error{kNotFound, "no owner '" + email + "'"};
  if (auto s = admin::check_password(password); !s) return Error{kBadRequest, s.error().text};
  auto users = admin_.list_users();
  if (!users) return std::move(users).error();
  auto existing = std::find_if(users->begin(), users->end(),
                               [&](const admin::UserInfo& u) { return u.name == email; });
  if (it->second.login && existing != users->end()) {
    // Tags an operator added (administrator, monitoring) stay.
    std::vector<std::string> tags = existing->tags;
    if (std::find(tags.begin(), tags.end(), kOwnerTag) == tags.end()) tags.push_back(kOwnerTag);
    return admin_.put_user(email, password, tags);
  }
  if (existing != users->end())
    return Error{kConflict, "the broker already has a user '" + email +
                                "' made outside Pulse: it signs in as the owner with its own "
                                "password; Pulse does not take it over"};
  // Tag management: the management API's sign-in. No vhost permission: an owner acts through
  // Pulse, not as an AMQP client.
  if (auto s = admin_.put_user(email, password, {kOwnerTag}); !s) return s;
  Owner o = it->second;
  o.login = true;
  if (auto s = save(to_record(o)); !s) {
    (void)admin_.delete_user(email);
    return s;
  }
  it->second = std::move(o);
  return {};
}

Status AccountService::delete_owner(const std::string& email) {
  auto it = owners_.find(email);
  if (it == owners_.end()) return Error{kNotFound, "no owner '" + email + "'"};
  auto owned = users_owned_by(email);
  if (!owned.empty()) {
    std::string names;
    for (const auto& n : owned) names += (names.empty() ? "" : ", ") + n;
    return Error{kConflict,
                 "owner '" + email + "' still owns Pulse users: " + names + " (delete them first)"};
  }
  if (it->second.login) {
    // The broker closes the login's connections (it has none on a vhost, but API sessions go).
    if (auto s = admin_.delete_user(email); !s && s.error().code != admin::kNotFound) return s;
  }
  if (auto s = store_.remove(owner_key(email)); !s) return Error{kStoreFailed, s.error().text};
  owners_.erase(it);
  return {};
}

}  // namespace pulse::accounts
