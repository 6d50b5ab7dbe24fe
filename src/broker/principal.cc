#include "broker/principal.h"

#include <optional>

#include "amqp/generated/constants.h"
#include "broker/exchange.h"
#include "broker/vhost.h"

namespace pulse::broker {

Principal::Principal(const auth::AuthStore& auth, std::string user, VHost& vhost,
                     uint64_t connection_id)
    : auth_(&auth), user_(std::move(user)), vhost_(&vhost), connection_id_(connection_id) {}

Status Principal::check(Resource kind, std::string_view name, auth::Access access) {
  const bool exchange = kind == Resource::kExchange;
  std::string_view resource = exchange ? auth::permission_resource_name_for_exchange(name) : name;
  for (const auto& g : granted_)
    if (g.access == access && g.kind == kind && g.resource == resource) return {};
  if (!auth_->check(user_, vhost_->name(), resource, access)) {
    return Error{amqp::kAccessRefused, "ACCESS_REFUSED - access to " +
                                           resource_name(exchange ? "exchange" : "queue",
                                                         std::string(resource), vhost_->name()) +
                                           " refused for user '" + user_ + "'"};
  }
  if (granted_.size() >= kMaxGranted) granted_.erase(granted_.begin());
  granted_.push_back(Granted{kind, access, std::string(resource)});
  return {};
}

Status Principal::check_topic(const Exchange& x, std::string_view key, auth::Access access) const {
  if (x.type() != ExchangeType::kTopic) return {};
  if (auth_->check_topic(user_, vhost_->name(), x.name(), key, access)) return {};
  return Error{amqp::kAccessRefused, "ACCESS_REFUSED - access to topic '" + std::string(key) +
                                         "' in exchange '" + x.name() + "' in vhost '" +
                                         vhost_->name() + "' refused for user '" + user_ + "'"};
}

bool Principal::has_tag(std::string_view tag) const {
  const auth::User* u = auth_->find_user(user_);
  return u != nullptr && u->has_tag(tag);
}

namespace {
// The namespace the strict rule binds `user` to; none when the rule does not apply.
std::optional<std::string_view> bound_namespace(const auth::AuthStore& auth,
                                                const std::string& user) {
  if (!auth.strict_namespaces()) return std::nullopt;
  const auth::User* u = auth.find_user(user);
  if (u == nullptr) return std::string_view(user);
  if (u->has_tag(auth::kNamespaceExemptTag)) return std::nullopt;
  return auth::namespace_of(user, u->tags);
}
}  // namespace

Status Principal::check_namespace(Resource kind, std::string_view name,
                                  auth::NamespaceAction action) const {
  auto ns = bound_namespace(*auth_, user_);
  if (!ns) return {};
  return auth::check_namespace(
      user_, *ns,
      kind == Resource::kExchange ? auth::NamespaceKind::kExchange : auth::NamespaceKind::kQueue,
      name, action);
}

Status Principal::check_namespace_exchange(std::string_view name, std::string_view type,
                                           bool durable) const {
  auto ns = bound_namespace(*auth_, user_);
  if (!ns) return {};
  if (auto s = auth::check_namespace(user_, *ns, auth::NamespaceKind::kExchange, name,
                                     auth::NamespaceAction::kDeclare);
      !s)
    return s;
  return auth::check_namespace_exchange(name, vhost_->name(), type, durable);
}

}  // namespace pulse::broker
