#include "auth/namespace_policy.h"

#include <string>

#include "amqp/generated/constants.h"

namespace pulse::auth {

namespace {

std::string_view prefix_of(NamespaceKind kind) {
  return kind == NamespaceKind::kExchange ? "exchange/" : "queue/";
}

std::string suffix() {
  return " (" + std::string(kStrictNamespacesKey) + ")";
}

}  // namespace

bool in_namespace(std::string_view user, NamespaceKind kind, std::string_view name) {
  std::string_view prefix = prefix_of(kind);
  if (user.empty() || !name.starts_with(prefix)) return false;
  name.remove_prefix(prefix.size());
  if (!name.starts_with(user)) return false;
  name.remove_prefix(user.size());
  return name.size() > 1 && name.front() == '/' && user.find('/') == std::string_view::npos;
}

std::string_view namespace_of(std::string_view user, const std::vector<std::string>& tags) {
  for (const auto& t : tags) {
    if (std::string_view(t).starts_with(kNamespaceTagPrefix) &&
        t.size() > kNamespaceTagPrefix.size())
      return std::string_view(t).substr(kNamespaceTagPrefix.size());
  }
  return user;
}

Status check_namespace(std::string_view user, NamespaceKind kind, std::string_view name,
                       NamespaceAction action) {
  return check_namespace(user, user, kind, name, action);
}

Status check_namespace(std::string_view user, std::string_view ns, NamespaceKind kind,
                       std::string_view name, NamespaceAction action) {
  if (in_namespace(ns, kind, name)) return {};
  const char* verb = action == NamespaceAction::kDeclare  ? "declare "
                     : action == NamespaceAction::kDelete ? "delete "
                                                          : "bind to ";
  const char* what = kind == NamespaceKind::kExchange ? "exchanges" : "queues";
  return Error{amqp::kAccessRefused, "ACCESS_REFUSED - user '" + std::string(user) + "' may only " +
                                         verb + what + " under '" + std::string(prefix_of(kind)) +
                                         std::string(ns) + "/'" + suffix()};
}

Status check_namespace_exchange(std::string_view name, std::string_view vhost,
                                std::string_view type, bool durable) {
  if (type == "topic" && durable) return {};
  return Error{amqp::kPreconditionFailed, "PRECONDITION_FAILED - exchange '" + std::string(name) +
                                              "' in vhost '" + std::string(vhost) +
                                              "' must be a durable topic exchange, not " +
                                              (durable ? "a durable " : "a non-durable ") +
                                              std::string(type) + " one" + suffix()};
}

bool is_namespace_refusal(const Error& e) {
  return (e.code == amqp::kAccessRefused || e.code == amqp::kPreconditionFailed) &&
         std::string_view(e.text).ends_with(suffix());
}

}  // namespace pulse::auth
