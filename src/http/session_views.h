#pragma once
// Connections, channels and consumers as RabbitMQ 3.10's management API shows them, built from
// the snapshots of connections_view.h. Shared by the connections, channels, consumers and
// queues controllers.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "http/api.h"
#include "http/list.h"

namespace pulse::http {

// `single`: the GET of one connection, where RabbitMQ shows the absent certificate fields as ""
// rather than null.
nlohmann::json connection_json(Api& api, const ConnectionInfo& c, bool single);
// `single` adds consumer_details, deliveries and publishes (GET of one channel).
nlohmann::json channel_json(Api& api, const ChannelInfo& ch, bool single);
nlohmann::json consumer_json(Api& api, const ChannelInfo& ch, const ConsumerInfo& cons);

// Whether the caller sees objects of `owner` in listings: monitoring users see all, others
// only their own (rabbit_mgmt_util:filter_user).
bool sees_owner(const Call& c, const std::string& owner);
// One object of `owner`: reading needs monitoring or ownership, DELETE administrator or
// ownership; else 401 "User not authorised to access object" (is_authorized_user).
std::optional<Response> require_owner(const Call& c, const std::string& owner);

// The listing filter of sees_owner(), kept by walks that outlive the call.
struct OwnerFilter {
  bool all = false;
  std::string user;
  bool operator()(const std::string& owner) const { return all || owner == user; }
};
OwnerFilter owner_filter(const Call& c);

// A listing of what the open connections hold (connections, channels, consumers), walked one
// connection at a time in slices, each by its id (one closed meanwhile is skipped), then
// sorted, paged and joined on the worker like the queue listings. `visit` runs on the loop.
Response reply_sessions_sliced(
    const Call& c, const Request& req, ListSpec spec,
    std::function<void(Api& api, uint64_t id, nlohmann::json& items)> visit);

// One open connection by its name, and one channel by its name ("<connection name> (N)"),
// found through the hooks' index, never by walking the connections; nullopt when unknown.
std::optional<ConnectionInfo> find_connection(const Call& c, const std::string& name);
std::optional<ChannelInfo> find_channel(const Call& c, const std::string& name);

}  // namespace pulse::http
