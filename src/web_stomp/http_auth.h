#pragma once
// web_stomp.use_http_auth: the WebSocket upgrade request's Basic credentials log the STOMP
// session in, as rabbit_web_stomp_handler reads them (cowlib's parse_authorization).
#include <optional>
#include <string_view>

#include "stomp_server/session.h"

namespace pulse::web_stomp {

// An Authorization header value as RabbitMQ 3.10 accepts it: `Basic` in any case, one space,
// then standard base64 (padded; whitespace inside is skipped, as Erlang's base64:decode does)
// of USER:PASSWORD, split at the first colon (the password may hold more). nullopt for anything
// else (another scheme, bad base64, no colon), on which RabbitMQ's handler crashes and the
// client sees the WebSocket closed with 1011.
std::optional<stomp_server::ForcedCredentials> basic_credentials(std::string_view value);

}  // namespace pulse::web_stomp
