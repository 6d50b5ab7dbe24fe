#pragma once
// Naming rules shared by every front-end (AMQP, HTTP, definitions, persistence).
#include <string_view>

namespace pulse::broker {

// RabbitMQ reserves the "amq." prefix: clients may not create exchanges or queues under it
// (ACCESS_REFUSED), nor delete the exchanges every vhost is born with.
inline bool is_reserved_name(std::string_view name) {
  return name.starts_with("amq.");
}

// The exchanges every vhost creates by itself (the default exchange and amq.*): never
// persisted, exported, auto-deleted or recreated from definitions.
inline bool is_builtin_exchange(std::string_view name) {
  return name.empty() || is_reserved_name(name);
}

}  // namespace pulse::broker
