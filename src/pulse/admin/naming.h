#pragma once
// Pulse's naming and permission rules as the account service and the guardian need them
// (../shared/pulse-reference.md, "Naming and permissions").
//
// The user-name rule is also in pulse/routing.h (valid_user_name), which belongs to pulse_layer,
// the client side; pulse_admin must not link that, so the rule lives in both for now.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pulse/admin/broker_admin.h"

namespace pulse::admin {

// The owner of "queue/<owner>/<rest>", as PulseGuardian matched it (`queue/([^/]+)/` at the
// start): any non-empty owner without '/', followed by '/'. Names outside the scheme have none.
std::optional<std::string> owner_of_queue(std::string_view queue);

// ^[a-zA-Z][a-zA-Z0-9._-]*$, with a text saying which part is wrong.
Status check_user_name(std::string_view user);

// At least 6 characters with a letter and a digit. The text never repeats the password.
Status check_password(std::string_view password);

// `text` with every character that is special in a regex (PCRE and RE2 alike) outside a
// character class backslash-escaped, so it matches itself literally: "a.b-c" -> "a\.b-c".
std::string regex_escape(std::string_view text);

// What a Pulse user gets on its vhost: configure = write = ^(queue/u/.*|exchange/u/.*),
// read = ^(queue/u/.*|exchange/.*), with `u` regex-escaped.
Permissions pulse_user_permissions(std::string_view user);

// The same permissions for namespace `ns`, whatever the user's name: a claimed namespace's two
// rotating users ("<ns>-1", "<ns>-2") both get exchange/<ns>/ and queue/<ns>/.
Permissions pulse_namespace_permissions(std::string_view ns);

// The tags of a claimed namespace's users: `pulse-namespace:<ns>`, which pulsed's strict
// namespaces read (auth::kNamespaceTagPrefix) so that "<ns>-1" may create under
// exchange/<ns>/; RabbitMQ keeps it as an ordinary tag.
std::vector<std::string> namespace_tags(std::string_view ns);

}  // namespace pulse::admin
