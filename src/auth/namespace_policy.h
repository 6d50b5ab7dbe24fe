#pragma once
// Strict namespaces (pulsed's `pulse.namespaces.strict`, Pulse's own rule; RabbitMQ has none):
// a user `u` may only create, delete and bind to `exchange/u/...` and `queue/u/...`, and its
// exchanges must be durable topic exchanges, whatever its permission regexes say (someone may
// have loosened the reference's Pulse permissions by hand). The permission regexes are still
// checked first, so a refusal they already give keeps RabbitMQ's text.
//
// Pure functions of names; the broker's Principal decides when they apply (strict mode on,
// user not exempt) and calls them from broker::ops, the one place AMQP and the management API
// both go through. Never on the publish path.
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse::auth {

// Users with this tag are exempt: operators (and the default `guest`) keep every power.
inline constexpr std::string_view kNamespaceExemptTag = "administrator";
// The config key, named at the end of every refusal text so an operator sees which rule spoke.
inline constexpr std::string_view kStrictNamespacesKey = "pulse.namespaces.strict";

// A user tagged `pulse-namespace:<ns>` owns namespace <ns> instead of its own name: the two
// users a namespace claim rotates between (`<ns>-1`, `<ns>-2`, pulse/accounts) both work in
// exchange/<ns>/ and queue/<ns>/. Only administrators can set tags, so the tag grants nothing
// a user could take for itself.
inline constexpr std::string_view kNamespaceTagPrefix = "pulse-namespace:";

// The namespace `user` may create in: the first `pulse-namespace:` tag's value, else the name.
std::string_view namespace_of(std::string_view user, const std::vector<std::string>& tags);

enum class NamespaceKind { kExchange, kQueue };
// What the user does to the named object: declare (create or redeclare, not passive), delete,
// or bind/unbind with it as the destination.
enum class NamespaceAction { kDeclare, kDelete, kBind };

// True when `name` is `<kind>/<user>/<something>`: "exchange/alice/x" for alice. The owner part
// must be the whole user name, so a user whose name holds '/' owns no name.
bool in_namespace(std::string_view user, NamespaceKind kind, std::string_view name);

// ACCESS_REFUSED (403) unless in_namespace: "ACCESS_REFUSED - user 'alice' may only declare
// queues under 'queue/alice/' (pulse.namespaces.strict)".
Status check_namespace(std::string_view user, NamespaceKind kind, std::string_view name,
                       NamespaceAction action);
// The same for a user whose namespace is `ns` (namespace_of): "user 'ns-1' may only declare
// queues under 'queue/ns/' (...)".
Status check_namespace(std::string_view user, std::string_view ns, NamespaceKind kind,
                       std::string_view name, NamespaceAction action);

// PRECONDITION_FAILED (406) unless a declared exchange is a durable topic exchange, as Pulse's
// naming rules require (RabbitMQ answers an inequivalent type or durability with 406 too).
Status check_namespace_exchange(std::string_view name, std::string_view vhost,
                                std::string_view type, bool durable);

// True for the refusals above (the management API answers them 403 with the text, where it
// answers a permission refusal 401 "Access refused." as RabbitMQ does).
bool is_namespace_refusal(const Error& e);

}  // namespace pulse::auth
