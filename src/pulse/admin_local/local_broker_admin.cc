#include "pulse/admin_local/local_broker_admin.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "auth/password.h"
#include "base/log.h"
#include "broker/exchange.h"
#include "broker/queue.h"
#include "broker/vhost.h"

namespace pulse::admin {

namespace {

Error not_found(std::string text) {
  return Error{kNotFound, std::move(text)};
}

// A refusal: what the management API answers 400 bad_request for.
Error bad_request(std::string text) {
  return Error{400, std::move(text)};
}

// The queue's last activity on the broker's monotonic clock as wall-clock time, as the
// management API's idle_since converts it.
TimePoint wall_clock(broker::TimePoint t) {
  return Clock::now() - std::chrono::duration_cast<Clock::duration>(broker::Clock::now() - t);
}

}  // namespace

LocalBrokerAdmin::LocalBrokerAdmin(broker::Broker& broker, auth::AuthStore& auth,
                                   LocalAdminHooks hooks)
    : broker_(broker), auth_(auth), hooks_(std::move(hooks)) {}

Result<std::vector<QueueInfo>> LocalBrokerAdmin::list_queues() {
  std::vector<QueueInfo> out;
  size_t total = 0;
  for (const auto& [vname, vh] : broker_.vhosts()) total += vh->queues().size();
  out.reserve(total);
  for (const auto& [vname, vh] : broker_.vhosts()) {
    for (const auto& [qname, q] : vh->queues()) {
      QueueInfo info;
      info.vhost = vname;
      info.name = qname;
      info.messages_ready = q->message_count();
      info.messages_unacknowledged = q->unacked_count();
      info.messages = info.messages_ready + info.messages_unacknowledged;
      info.consumers = static_cast<uint32_t>(q->consumer_count());
      info.durable = q->durable();
      info.auto_delete = q->auto_delete();
      info.exclusive = q->exclusive();
      info.idle_since = wall_clock(q->last_used());
      out.push_back(std::move(info));
    }
    // Bindings whose destination is a queue, by exchange: one walk over the vhost's exchanges
    // rather than one per queue. The default exchange ("") is left out, as its implicit
    // bindings name no exchange an owner could act on.
    // Found by hash: queue names share long prefixes ("queue/<owner>/"), which makes a binary
    // search's comparisons long memcmps (the guardian lists 10k queues on the loop every poll).
    const size_t first = out.size() - vh->queues().size();
    std::unordered_map<std::string_view, size_t> by_name;
    by_name.reserve(vh->queues().size());
    for (size_t i = first; i < out.size(); ++i) by_name.emplace(out[i].name, i);
    for (const auto& [xname, x] : vh->exchanges()) {
      if (xname.empty()) continue;
      for (const auto& b : x->bindings()) {
        if (b.destination.is_exchange) continue;
        auto it = by_name.find(b.destination.name);
        if (it == by_name.end()) continue;
        out[it->second].bindings.push_back(BindingInfo{xname, b.routing_key});
      }
    }
  }
  return out;
}

Status LocalBrokerAdmin::delete_queue(const std::string& vhost, const std::string& name,
                                      const std::string& reason) {
  broker::VHost* vh = broker_.find_vhost(vhost);
  if (vh == nullptr) return not_found("no vhost '" + vhost + "'");
  if (!vh->find_queue(name)) return not_found("no queue '" + name + "' in vhost '" + vhost + "'");
  // As DELETE /api/queues/{vhost}/{name}, with the broker's own authority (an administrator
  // with every permission): no connection owns the call, so an exclusive queue is refused with
  // RESOURCE_LOCKED as the API refuses it. Consumers get basic.cancel; the definitions
  // observer forgets a durable queue.
  auto r = vh->delete_queue(name, false, false, 0);
  if (!r) return std::move(r).error();
  spdlog::info("broker admin: deleted queue '{}' in vhost '{}' ({} messages): {}", name, vhost, *r,
               reason);
  return ok_status();
}

Result<std::vector<ExchangeInfo>> LocalBrokerAdmin::list_exchanges() {
  std::vector<ExchangeInfo> out;
  for (const auto& [vname, vh] : broker_.vhosts()) {
    for (const auto& [xname, x] : vh->exchanges()) {
      out.push_back(ExchangeInfo{vname, xname, broker::exchange_type_name(x->type()), x->durable(),
                                 x->auto_delete(), x->internal()});
    }
  }
  return out;
}

Status LocalBrokerAdmin::delete_exchange(const std::string& vhost, const std::string& name) {
  // As DELETE /api/exchanges/{vhost}/{name}, with the broker's own authority: bindings go with
  // the exchange (and auto-delete exchanges it empties), the definitions observer forgets it.
  broker::VHost* vh = broker_.find_vhost(vhost);
  if (vh == nullptr) return not_found("no vhost '" + vhost + "'");
  if (vh->find_exchange(name) == nullptr)
    return not_found("no exchange '" + name + "' in vhost '" + vhost + "'");
  if (auto s = vh->delete_exchange(name, false); !s) {
    // The default and amq.* exchanges: the API's 401 "Access refused." (http::broker_error).
    if (s.error().code == 403) return Error{401, "Access refused."};
    return bad_request(s.error().text);
  }
  spdlog::info("broker admin: deleted exchange '{}' in vhost '{}'", name, vhost);
  return ok_status();
}

Result<std::vector<ConnectionInfo>> LocalBrokerAdmin::list_connections() {
  if (!hooks_.list_connections) return std::vector<ConnectionInfo>{};
  return hooks_.list_connections();
}

Status LocalBrokerAdmin::close_connection(const std::string& name, const std::string& reason) {
  if (!hooks_.close_connection || !hooks_.close_connection(name, reason))
    return not_found("no connection '" + name + "'");
  return ok_status();
}

Result<std::vector<UserInfo>> LocalBrokerAdmin::list_users() {
  std::vector<UserInfo> out;
  for (const auth::User* u : auth_.users()) out.push_back(UserInfo{u->name, u->tags});
  return out;
}

Status LocalBrokerAdmin::put_user(const std::string& name, const std::string& password,
                                  const std::vector<std::string>& tags) {
  // As PUT /api/users/{name} with "password" and "tags": a new SHA-256 hash; put_user_hash keeps
  // an existing user's permissions and limits, and nothing here touches its connections or
  // queues.
  auto s = auth_.put_user_hash(name, auth::hash_password(password), auth::kSha256Name, tags);
  if (!s) return bad_request(s.error().text);
  if (hooks_.user_changed) hooks_.user_changed(name);
  return ok_status();
}

Status LocalBrokerAdmin::delete_user(const std::string& name) {
  // As DELETE /api/users/{name} on pulsed: the user and its permissions go (persist_user
  // deletes both rows); its open connections stay open, as pulsed's API leaves them.
  if (!auth_.delete_user(name)) return not_found("no user '" + name + "'");
  if (hooks_.user_changed) hooks_.user_changed(name);
  return ok_status();
}

Status LocalBrokerAdmin::set_permissions(const std::string& vhost, const std::string& user,
                                         const Permissions& p) {
  // As PUT /api/permissions/{vhost}/{user}.
  if (auth_.find_user(user) == nullptr || broker_.find_vhost(vhost) == nullptr)
    return bad_request("vhost_or_user_not_found");
  if (auto s = auth_.set_permissions(user, vhost, p.configure, p.write, p.read); !s)
    return bad_request(s.error().text);
  if (hooks_.permission_changed) hooks_.permission_changed(user, vhost);
  return ok_status();
}

Result<std::vector<UserPermissions>> LocalBrokerAdmin::list_permissions(const std::string& user) {
  // As GET /api/users/{user}/permissions: 404 for a missing user.
  if (auth_.find_user(user) == nullptr) return not_found("no user '" + user + "'");
  std::vector<UserPermissions> out;
  for (const auto& p : auth_.permissions())
    if (p.user == user)
      out.push_back(UserPermissions{p.vhost, p.user, {p.configure, p.write, p.read}});
  return out;
}

}  // namespace pulse::admin
