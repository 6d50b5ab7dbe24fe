#include "pulse/accounts/account_service.h"

#include <algorithm>
#include <random>
#include <utility>

#include "pulse/admin/naming.h"

namespace pulse::accounts {

namespace {

// A password the reference's rule accepts (a letter and a digit): 24 characters of [A-Za-z0-9]
// from the system's random device, about 142 bits.
std::string system_random_password() {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::uniform_int_distribution<size_t> pick(0, sizeof kChars - 2);
  for (;;) {
    std::string out;
    for (int i = 0; i < 24; ++i) out.push_back(kChars[pick(rd)]);
    if (admin::check_password(out)) return out;
  }
}

Error with_code(uint16_t code, Error e) {
  e.code = code;
  return e;
}

bool valid_email(const std::string& email) {
  const size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == email.size()) return false;
  if (email.find('@', at + 1) != std::string::npos) return false;
  return std::none_of(email.begin(), email.end(), [](unsigned char c) {
    return c <= ' ' || c == '/' || c == '"' || c == '<' || c == '>' || c == 127;
  });
}

}  // namespace

AccountService::AccountService(admin::BrokerAdmin& admin, AccountStore& store,
                               AccountSettings settings,
                               std::function<std::string()> random_password)
    : admin_(admin),
      store_(store),
      settings_(std::move(settings)),
      random_password_(random_password ? std::move(random_password)
                                       : std::function<std::string()>(system_random_password)) {}

Status AccountService::load() {
  auto records = store_.load_all();
  if (!records) return with_code(kStoreFailed, std::move(records).error());
  auto state = parse_records(*records);
  if (!state) return with_code(kStoreFailed, std::move(state).error());
  owners_.clear();
  users_.clear();
  claims_.clear();
  for (auto& o : state->owners) owners_[o.email] = std::move(o);
  for (auto& u : state->users) users_[u.name] = std::move(u);
  for (auto& c : state->claims) claims_[c.ns] = std::move(c);
  return {};
}

Status AccountService::save(const Record& r) {
  if (auto s = store_.put(r); !s) return with_code(kStoreFailed, std::move(s).error());
  return {};
}

std::string AccountService::new_password() {
  return random_password_();
}

Result<Owner> AccountService::create_owner(const std::string& email,
                                           const std::string& display_name, bool admin,
                                           TimePoint now) {
  if (!valid_email(email)) return Error{kBadRequest, "invalid owner email '" + email + "'"};
  if (owners_.contains(email)) return Error{kConflict, "owner '" + email + "' exists"};
  Owner o{email, display_name, admin, now};
  if (auto s = save(to_record(o)); !s) return std::move(s).error();
  owners_[email] = o;
  return o;
}

std::vector<Owner> AccountService::owners() const {
  std::vector<Owner> out;
  for (const auto& [_, o] : owners_) out.push_back(o);
  return out;
}

AccountState AccountService::state() const {
  AccountState out;
  out.owners = owners();
  for (const auto& [_, u] : users_) out.users.push_back(u);
  out.claims = claims();
  return out;
}

Status AccountService::put_records(const std::vector<Record>& records) {
  for (const auto& r : records)
    if (auto s = save(r); !s) return s;
  return {};
}

Result<Owner> AccountService::acting(const Actor& actor) const {
  auto it = owners_.find(actor.name);
  if (it == owners_.end()) {
    if (!actor.broker_admin) return Error{kNotFound, "no owner '" + actor.name + "'"};
    return Owner{actor.name, "", true, {}, false};
  }
  Owner o = it->second;
  o.admin = o.admin || actor.broker_admin;
  return o;
}

Result<PulseUser*> AccountService::owned(const Owner& actor, const std::string& name) {
  auto it = users_.find(name);
  if (it == users_.end()) return Error{kNotFound, "no Pulse user '" + name + "'"};
  const auto& owners = it->second.owners;
  if (!actor.admin && std::find(owners.begin(), owners.end(), actor.email) == owners.end())
    return Error{kForbidden, "'" + actor.email + "' does not own Pulse user '" + name + "'"};
  return &it->second;
}

Result<bool> AccountService::broker_has_user(const std::string& name) {
  auto users = admin_.list_users();
  if (!users) return std::move(users).error();
  return std::any_of(users->begin(), users->end(),
                     [&](const admin::UserInfo& u) { return u.name == name; });
}

// A Pulse user's name or a namespace: the naming rule, not reserved, and no namespace of
// another Pulse user or claim, since both own exchange/<name>/ and queue/<name>/.
Status AccountService::check_new_name(const std::string& name, const char* what) {
  if (auto s = admin::check_user_name(name); !s) return with_code(kBadRequest, s.error());
  if (settings_.reserved_users.contains(name))
    return Error{kBadRequest, std::string(what) + " '" + name + "' is reserved"};
  if (users_.contains(name) || claims_.contains(name))
    return Error{kConflict, "namespace '" + name + "' is taken"};
  return {};
}

Status AccountService::grant(const std::string& user, const std::string& ns) {
  const admin::Permissions p = admin::pulse_namespace_permissions(ns);
  for (const auto& vhost : settings_.vhosts)
    if (auto s = admin_.set_permissions(vhost, user, p); !s) return s;
  return {};
}

Result<PulseUser> AccountService::create_user(const Actor& actor, const std::string& name,
                                              const std::string& password,
                                              const std::string& description, TimePoint now,
                                              const std::string& owner) {
  auto who = acting(actor);
  if (!who) return std::move(who).error();
  const std::string& owner_email = owner.empty() ? who->email : owner;
  if (owner_email != who->email && !who->admin)
    return Error{kForbidden, "only administrators may create a Pulse user for another owner"};
  if (!owners_.contains(owner_email)) {
    if (owner.empty())
      return Error{kBadRequest, "'" + owner_email + "' is not a Pulse owner: name the owner"};
    return Error{kBadRequest, "no owner '" + owner_email + "'"};
  }
  if (auto s = check_new_name(name, "Pulse user name"); !s) return std::move(s).error();
  if (auto s = admin::check_password(password); !s) return with_code(kBadRequest, s.error());
  // Never take over a broker account made elsewhere (an administrator, a claim's user).
  auto exists = broker_has_user(name);
  if (!exists) return std::move(exists).error();
  if (*exists) return Error{kConflict, "the broker already has a user '" + name + "'"};

  if (auto s = admin_.put_user(name, password, {}); !s) return std::move(s).error();
  PulseUser u{name, {owner_email}, now, description};
  Status s = grant(name, name);
  if (s) s = save(to_record(u));
  if (!s) {
    (void)admin_.delete_user(name);  // no half-made user left behind
    return std::move(s).error();
  }
  users_[name] = u;
  return u;
}

Status AccountService::change_password(const Actor& actor, const std::string& name,
                                       const std::string& password) {
  auto who = acting(actor);
  if (!who) return std::move(who).error();
  auto u = owned(*who, name);
  if (!u) return std::move(u).error();
  if (auto s = admin::check_password(password); !s) return with_code(kBadRequest, s.error());
  // put_user on an existing user: the same account, so nothing it holds is dropped.
  return admin_.put_user(name, password, {});
}

Status AccountService::set_description(const Actor& actor, const std::string& name,
                                       const std::string& description) {
  auto who = acting(actor);
  if (!who) return std::move(who).error();
  auto u = owned(*who, name);
  if (!u) return std::move(u).error();
  PulseUser changed = **u;
  changed.description = description;
  if (auto s = save(to_record(changed)); !s) return s;
  **u = std::move(changed);
  return {};
}

Status AccountService::delete_user(const Actor& actor, const std::string& name,
                                   bool delete_queues) {
  auto who = acting(actor);
  if (!who) return std::move(who).error();
  auto u = owned(*who, name);
  if (!u) return std::move(u).error();
  if (auto s = admin_.delete_user(name); !s && s.error().code != admin::kNotFound) return s;
  if (delete_queues)
    if (auto s = delete_namespace_queues(name); !s) return s;
  if (auto s = store_.remove(user_key(name)); !s) return with_code(kStoreFailed, s.error());
  users_.erase(name);
  return {};
}

Result<std::vector<UserQueues>> AccountService::users_of(const Actor& actor) {
  auto who = acting(actor);
  if (!who) return std::move(who).error();
  auto queues = admin_.list_queues();
  if (!queues) return std::move(queues).error();
  std::vector<UserQueues> out;
  std::map<std::string, size_t> index;
  for (const auto& [name, u] : users_) {
    const bool mine = std::find(u.owners.begin(), u.owners.end(), who->email) != u.owners.end();
    if (!mine && !who->admin) continue;
    index[name] = out.size();
    out.push_back(UserQueues{u, {}});
  }
  for (auto& q : *queues) {
    auto owner = admin::owner_of_queue(q.name);
    if (!owner) continue;
    if (auto it = index.find(*owner); it != index.end())
      out[it->second].queues.push_back(std::move(q));
  }
  return out;
}

Result<UserQueues> AccountService::user(const Actor& actor, const std::string& name) {
  auto who = acting(actor);
  if (!who) return std::move(who).error();
  auto u = owned(*who, name);
  if (!u) return std::move(u).error();
  auto queues = admin_.list_queues();
  if (!queues) return std::move(queues).error();
  UserQueues out{**u, {}};
  for (auto& q : *queues)
    if (admin::owner_of_queue(q.name) == name) out.queues.push_back(std::move(q));
  return out;
}

Status AccountService::delete_namespace_queues(const std::string& ns) {
  auto queues = admin_.list_queues();
  if (!queues) return std::move(queues).error();
  for (const auto& q : *queues) {
    if (admin::owner_of_queue(q.name) != ns) continue;
    auto s = admin_.delete_queue(q.vhost, q.name, "namespace '" + ns + "' removed");
    if (!s && s.error().code != admin::kNotFound) return s;
  }
  return {};
}

Status AccountService::delete_namespace_exchanges(const std::string& ns) {
  auto exchanges = admin_.list_exchanges();
  if (!exchanges) return std::move(exchanges).error();
  const std::string prefix = "exchange/" + ns + "/";
  for (const auto& x : *exchanges) {
    if (!x.name.starts_with(prefix)) continue;
    auto s = admin_.delete_exchange(x.vhost, x.name);
    if (!s && s.error().code != admin::kNotFound) return s;
  }
  return {};
}

}  // namespace pulse::accounts
