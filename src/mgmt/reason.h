#pragma once
// What the management API says went wrong, from an error reply's body.
#include <string>

#include "mgmt/http_client.h"

namespace pulse::mgmt {

// The API's {"error": ..., "reason": ...}: the reason (a string or, from some RabbitMQ
// handlers, any JSON value) with RabbitMQ's HTML escaping undone, else the error, else the
// start of the body.
std::string error_reason(const HttpReply& reply);

}  // namespace pulse::mgmt
