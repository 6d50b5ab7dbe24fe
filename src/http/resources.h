#pragma once
// Helpers shared by the exchange, queue and binding controllers: AMQP permission checks for
// the acting user, message publishing and fetching (exchange /publish, queue /get).
#include <string>

#include "auth/auth_store.h"
#include "broker/vhost.h"
#include "http/api.h"

namespace pulse::http {

// The user's configure/write/read permission on a resource (exchange "" as amq.default).
bool check_permission(const Call& c, const std::string& vhost, const std::string& name,
                      auth::Access access, bool exchange);

// POST /api/exchanges/{vhost}/{name}/publish: {"routed": bool}.
Response publish_message(const Call& c, broker::VHost& vh, const std::string& exchange);
// POST /api/queues/{vhost}/{name}/get.
Response get_messages(const Call& c, broker::VHost& vh, const std::string& queue);

}  // namespace pulse::http

namespace pulse::http {

// Every binding of the vhost as RabbitMQ lists them: the implicit default-exchange binding of
// each queue first (source "", routing key = queue name), then the exchanges' bindings in
// exchange-name order.
std::vector<broker::Binding> vhost_bindings(broker::VHost& vh);

}  // namespace pulse::http
