// Namespace claims (Taskcluster's pulse service): a claim owns exchange/<ns>/ and queue/<ns>/
// through two broker users, "<ns>-1" and "<ns>-2", that take turns. A rotation gives the user
// not handed out a fresh password and hands it out from then on; the other keeps its password
// for one more interval, so a client that claimed before the rotation reconnects with its
// credentials until it claims again, and a connected client is never dropped.
#include <algorithm>
#include <utility>

#include "pulse/accounts/account_service.h"
#include "pulse/admin/naming.h"

namespace pulse::accounts {

namespace {

bool ignorable(const Status& s) {
  return s || s.error().code == admin::kNotFound;
}

}  // namespace

Result<Credentials> AccountService::credentials(const NamespaceClaim& c) const {
  const std::string& user = c.users[static_cast<size_t>(c.current)];
  auto url =
      connection_string(settings_.connection_url, settings_.vhosts.front(), user, c.password);
  if (!url) return std::move(url).error();
  return Credentials{c.ns, user,      c.password,
                     *url, c.expires, c.last_rotation + settings_.rotation_interval};
}

Result<Credentials> AccountService::claim(const std::string& ns, TimePoint expires,
                                          const std::optional<std::string>& contact,
                                          TimePoint now) {
  if (expires <= now) return Error{kBadRequest, "the claim of '" + ns + "' expires in the past"};
  if (auto it = claims_.find(ns); it != claims_.end()) {
    NamespaceClaim c = it->second;
    c.expires = expires;
    // A refresh that names no contact keeps the one on record.
    if (contact) c.contact = *contact;
    // The current user is made again if someone deleted it behind the service's back; same
    // password, so nothing changes for its clients.
    const std::string& user = c.users[static_cast<size_t>(c.current)];
    if (auto s = admin_.put_user(user, c.password, admin::namespace_tags(ns)); !s)
      return std::move(s).error();
    if (auto s = grant(user, ns); !s) return std::move(s).error();
    if (auto s = save(to_record(c)); !s) return std::move(s).error();
    it->second = c;
    return credentials(c);
  }

  if (auto s = check_new_name(ns, "namespace"); !s) return std::move(s).error();
  NamespaceClaim c;
  c.ns = ns;
  c.expires = expires;
  c.contact = contact.value_or("");
  c.users = {ns + "-1", ns + "-2"};
  c.created = now;
  c.last_rotation = now;
  for (const std::string& name : {ns, c.users[0], c.users[1]}) {
    auto exists = broker_has_user(name);
    if (!exists) return std::move(exists).error();
    if (*exists) return Error{kConflict, "the broker already has a user '" + name + "'"};
  }
  // Both users from the start, the second with a password nobody is given: a rotation then only
  // changes passwords.
  std::array<std::string, 2> passwords{new_password(), new_password()};
  Status s;
  for (size_t i = 0; i < 2 && s; ++i) {
    s = admin_.put_user(c.users[i], passwords[i], admin::namespace_tags(ns));
    if (s) s = grant(c.users[i], ns);
  }
  c.current = 0;
  c.password = passwords[0];
  if (s) s = save(to_record(c));
  if (!s) {
    for (const auto& u : c.users) (void)admin_.delete_user(u);
    return std::move(s).error();
  }
  claims_[ns] = c;
  return credentials(c);
}

SweepReport AccountService::rotate(TimePoint now) {
  SweepReport report;
  for (auto& [ns, claim] : claims_) {
    if (claim.expires <= now || now < claim.last_rotation + settings_.rotation_interval) continue;
    NamespaceClaim c = claim;
    const size_t next = c.current == 0 ? 1 : 0;
    const std::string password = new_password();
    // put_user keeps the user's connections (a client of the previous rotation stays on);
    // permissions are set again in case the user was made anew.
    Status s = admin_.put_user(c.users[next], password, admin::namespace_tags(ns));
    if (s) s = grant(c.users[next], ns);
    if (s) {
      c.current = static_cast<int>(next);
      c.password = password;
      c.last_rotation = now;
      s = save(to_record(c));
    }
    if (!s) {
      Error e = std::move(s).error();
      e.text = "rotating namespace '" + ns + "': " + e.text;
      report.errors.push_back(std::move(e));
      continue;
    }
    claim = std::move(c);
    report.done.push_back(ns);
  }
  return report;
}

Status AccountService::close_connections_of(const std::vector<std::string>& users) {
  auto conns = admin_.list_connections();
  if (!conns) return std::move(conns).error();
  for (const auto& c : *conns) {
    if (std::find(users.begin(), users.end(), c.user) == users.end()) continue;
    if (auto s = admin_.close_connection(c.name, "namespace expired"); !ignorable(s)) return s;
  }
  return {};
}

Status AccountService::clear_claim(const NamespaceClaim& c) {
  // Users first, so nothing new is made in the namespace while it is cleared; the broker
  // closes their connections (RabbitMQ and pulsed do), and any left are closed here.
  Status s;
  for (const auto& u : c.users)
    if (s) {
      s = admin_.delete_user(u);
      if (ignorable(s)) s = {};
    }
  if (s) s = close_connections_of({c.users[0], c.users[1]});
  if (s) s = delete_namespace_queues(c.ns);
  if (s) s = delete_namespace_exchanges(c.ns);
  if (s) {
    if (auto r = store_.remove(claim_key(c.ns)); !r) s = Error{kStoreFailed, r.error().text};
  }
  return s;
}

SweepReport AccountService::expire(TimePoint now) {
  SweepReport report;
  std::vector<std::string> gone;
  for (const auto& [ns, c] : claims_) {
    if (c.expires > now) continue;
    if (Status s = clear_claim(c); !s) {
      Error e = std::move(s).error();
      e.text = "expiring namespace '" + ns + "': " + e.text;
      report.errors.push_back(std::move(e));
      continue;
    }
    gone.push_back(ns);
  }
  for (const auto& ns : gone) claims_.erase(ns);
  report.done = std::move(gone);
  return report;
}

Status AccountService::release(const std::string& ns) {
  auto it = claims_.find(ns);
  if (it == claims_.end()) return Error{kNotFound, "no claim of namespace '" + ns + "'"};
  if (Status s = clear_claim(it->second); !s) return s;
  claims_.erase(it);
  return {};
}

std::vector<NamespaceClaim> AccountService::claims() const {
  std::vector<NamespaceClaim> out;
  for (const auto& [_, c] : claims_) out.push_back(c);
  return out;
}

}  // namespace pulse::accounts
