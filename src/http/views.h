#pragma once
// Broker objects as the management API shows them, with RabbitMQ's field names. Shared by the
// controllers and the definitions export.
#include <nlohmann/json.hpp>

#include <string>

#include "auth/auth_store.h"
#include "broker/broker.h"
#include "http/stats.h"

namespace pulse::http {

class Api;

// Full queue object; `stats` false gives the definitions-only fields (disable_stats=true).
nlohmann::json queue_json(Api& api, broker::Queue& q, bool stats);
nlohmann::json exchange_json(Api& api, const broker::VHost& vh, const broker::Exchange& x);
// A binding as listed: source, vhost, destination, destination_type, routing_key, arguments,
// properties_key.
nlohmann::json binding_json(const std::string& vhost, const broker::Binding& b);
// RabbitMQ's properties key: the routing key alone when there are no arguments, else
// "<key>~<hash of the arguments>" (url-safe base64 of an Erlang phash2 here: a stable hash of
// the arguments, opaque to clients).
std::string properties_key(const broker::Binding& b);
// RabbitMQ's vhost `metadata` object: description, tags, and default_queue_type when set.
nlohmann::json vhost_metadata_json(const broker::VHostMetadata& m);
// `t`: the vhost's queues summed (sum_queues_sliced).
nlohmann::json vhost_json(Api& api, const broker::VHost& vh, const QueueTotals& t);
nlohmann::json user_json(const auth::User& u);
nlohmann::json permission_json(const auth::PermissionEntry& p);
nlohmann::json topic_permission_json(const auth::TopicPermissionEntry& p);
nlohmann::json policy_json(const broker::Policy& p);

// The default exchange is "" in the API and "amq.default" in paths.
inline std::string exchange_from_path(const std::string& s) {
  return s == "amq.default" ? std::string() : s;
}

// "2026-11-28T19:59:36.002+00:00" (milliseconds since the epoch), RabbitMQ's idle_since format.
std::string iso_time_ms(int64_t epoch_ms);

// Queue type by its x-queue-type argument ("classic" when absent).
std::string queue_type(const broker::Queue& q);

}  // namespace pulse::http
