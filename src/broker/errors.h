#pragma once
// RabbitMQ's texts for the refusals that more than one broker entry point reports (the
// client-facing operations and the vhost's own primitives), so each text exists once.
#include <string>
#include <string_view>

#include "amqp/generated/constants.h"
#include "base/result.h"

namespace pulse::broker {

// "exchange 'x' in vhost '/'" / "queue 'q' in vhost '/'"
std::string resource_name(const char* kind, const std::string& name, const std::string& vhost);

inline Error precondition_failed(std::string text) {
  return Error{amqp::kPreconditionFailed, "PRECONDITION_FAILED - " + std::move(text)};
}

inline Error not_found(const char* kind, const std::string& name, const std::string& vhost) {
  return Error{amqp::kNotFound, "NOT_FOUND - no " + resource_name(kind, name, vhost)};
}

inline Error unknown_exchange_type(const std::string& type) {
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unknown exchange type '" + type + "'"};
}

// Declaring, deleting or binding the default exchange "".
inline Error default_exchange_refused() {
  return Error{amqp::kAccessRefused,
               "ACCESS_REFUSED - operation not permitted on the default exchange"};
}

// A new exchange or queue under the reserved "amq." prefix (see names.h).
inline Error reserved_name_refused(std::string_view kind, const std::string& name) {
  return Error{amqp::kAccessRefused, "ACCESS_REFUSED - " + std::string(kind) + " name '" + name +
                                         "' contains reserved prefix 'amq.*'"};
}

inline Error system_exchange_deletion_refused(const std::string& name, const std::string& vhost) {
  return Error{amqp::kAccessRefused, "ACCESS_REFUSED - deletion of system " +
                                         resource_name("exchange", name, vhost) + " not allowed"};
}

inline Error internal_exchange_refused(const std::string& name, const std::string& vhost) {
  return Error{amqp::kAccessRefused, "ACCESS_REFUSED - cannot publish to internal " +
                                         resource_name("exchange", name, vhost)};
}

}  // namespace pulse::broker
