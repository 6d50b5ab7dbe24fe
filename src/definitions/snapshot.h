#pragma once
// Live broker and auth objects as the model: what the DefinitionsPersister writes to the
// definitions database and what GET /api/definitions exports.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/auth_store.h"
#include "broker/exchange.h"
#include "broker/policy.h"
#include "broker/queue.h"
#include "broker/vhost.h"
#include "definitions/model.h"

namespace pulse::definitions {

Vhost snapshot(const broker::VHost& vh);
User snapshot(const auth::User& u);
Permission snapshot(const auth::PermissionEntry& p);
TopicPermission snapshot(const auth::TopicPermissionEntry& p);
Policy snapshot(const broker::Policy& p);
Exchange snapshot(const std::string& vhost, const broker::Exchange& x);
// `type` is the queue's x-queue-type argument, "classic" without one.
Queue snapshot(const std::string& vhost, const broker::Queue& q);
Binding snapshot(const std::string& vhost, const broker::Binding& b);
// The vhost's limits as its "vhost-limits" parameter named "limits"; nullopt without one.
std::optional<Parameter> limits_snapshot(const broker::VHost& vh);
// Limits as RabbitMQ writes a proplist: [] when empty, else an object.
nlohmann::json limits_json(const broker::LimitList& limits);

}  // namespace pulse::definitions
