#include "http/session_views.h"

#include <charconv>

#include "amqp/field_table_json.h"
#include "http/views.h"

namespace pulse::http {

using nlohmann::json;

namespace {

json rate(double r) {
  return {{"rate", r}};
}

}  // namespace

json connection_json(Api& api, const ConnectionInfo& c, bool single) {
  const json absent = single ? json("") : json(nullptr);
  const auto& cs = api.channel_stats();
  auto or_absent = [&absent](const std::string& v) { return v.empty() ? absent : json(v); };
  json j = {{"auth_mechanism", c.auth_mechanism},
            {"channel_max", c.channel_max},
            {"channels", c.channels},
            {"client_properties", c.client_properties != nullptr
                                      ? amqp::field_table_to_json(*c.client_properties)
                                      : json::object()},
            {"connected_at", c.connected_at_ms},
            {"frame_max", c.frame_max},
            {"host", c.host},
            {"name", c.name},
            {"node", api.node_name()},
            {"peer_cert_issuer", or_absent(c.peer_cert_issuer)},
            {"peer_cert_subject", or_absent(c.peer_cert_subject)},
            {"peer_cert_validity", or_absent(c.peer_cert_validity)},
            {"peer_host", c.peer_host},
            {"peer_port", c.peer_port},
            {"port", c.port},
            {"protocol", c.protocol},
            {"recv_cnt", c.recv_cnt},
            {"recv_oct", c.recv_oct},
            {"recv_oct_details", rate(cs.recv_rate(c.id))},
            {"send_cnt", c.send_cnt},
            {"send_oct", c.send_oct},
            {"send_oct_details", rate(cs.send_rate(c.id))},
            {"send_pend", c.send_pend},
            {"ssl", c.ssl},
            {"ssl_cipher", or_absent(c.ssl_cipher)},
            {"ssl_hash", or_absent(c.ssl_hash)},
            {"ssl_key_exchange", or_absent(c.ssl_key_exchange)},
            {"ssl_protocol", or_absent(c.ssl_protocol)},
            {"state", c.state},
            {"timeout", c.timeout},
            {"type", c.type},
            {"user", c.user},
            {"user_who_performed_action", c.user},
            {"vhost", c.vhost}};
  // RabbitMQ shows the client's "connection_name" property as user_provided_name.
  if (c.client_properties != nullptr) {
    if (const auto* v = amqp::find(*c.client_properties, "connection_name")) {
      if (const auto* s = v->as_string()) j["user_provided_name"] = *s;
    }
  }
  return j;
}

json consumer_json(Api& api, const ChannelInfo& ch, const ConsumerInfo& cons) {
  return {{"ack_required", cons.ack_required},
          {"active", cons.active},
          {"activity_status", cons.active ? "up" : "waiting"},
          {"arguments",
           cons.arguments != nullptr ? amqp::field_table_to_json(*cons.arguments) : json::object()},
          {"channel_details",
           {{"connection_name", ch.connection_name},
            {"name", ch.name()},
            {"node", api.node_name()},
            {"number", ch.number},
            {"peer_host", ch.peer_host},
            {"peer_port", ch.peer_port},
            {"user", ch.user}}},
          {"consumer_tag", cons.tag},
          {"exclusive", cons.exclusive},
          {"prefetch_count", cons.prefetch_count},
          {"queue", {{"name", cons.queue}, {"vhost", ch.vhost}}}};
}

json channel_json(Api& api, const ChannelInfo& ch, bool single) {
  json j = {
      {"acks_uncommitted", ch.acks_uncommitted},
      {"confirm", ch.confirm},
      {"connection_details",
       {{"name", ch.connection_name}, {"peer_host", ch.peer_host}, {"peer_port", ch.peer_port}}},
      {"consumer_count", ch.consumers.size()},
      {"global_prefetch_count", ch.global_prefetch_count},
      {"idle_since", iso_time_ms(ch.idle_since_ms)},
      {"messages_unacknowledged", ch.unacked},
      {"messages_uncommitted", ch.uncommitted},
      {"messages_unconfirmed", ch.unconfirmed},
      {"name", ch.name()},
      {"node", api.node_name()},
      {"number", ch.number},
      {"pending_raft_commands", 0},
      {"prefetch_count", ch.prefetch_count},
      {"state", ch.state},
      {"transactional", ch.transactional},
      {"user", ch.user},
      {"user_who_performed_action", ch.user},
      {"vhost", ch.vhost}};
  if (auto stats = api.channel_stats().message_stats(ch); !stats.is_null())
    j["message_stats"] = std::move(stats);
  if (single) {
    json details = json::array();
    for (const auto& cons : ch.consumers) details.push_back(consumer_json(api, ch, cons));
    j["consumer_details"] = std::move(details);
    j["deliveries"] = json::array();
    j["publishes"] = json::array();
  }
  return j;
}

bool sees_owner(const Call& c, const std::string& owner) {
  return is_monitor(c.user) || owner == c.user.name;
}

std::optional<Response> require_owner(const Call& c, const std::string& owner) {
  if (owner == c.user.name) return std::nullopt;
  if (c.method() == "DELETE" ? is_admin(c.user) : is_monitor(c.user)) return std::nullopt;
  return not_authorised("User not authorised to access object");
}

OwnerFilter owner_filter(const Call& c) {
  return {is_monitor(c.user), c.user.name};
}

Response reply_sessions_sliced(const Call& c, const Request& req, ListSpec spec,
                               std::function<void(Api& api, uint64_t id, json& items)> visit) {
  const auto& h = c.api.hooks();
  auto ids = std::make_shared<std::vector<uint64_t>>(h.connection_ids ? h.connection_ids()
                                                                      : std::vector<uint64_t>{});
  auto next = std::make_shared<size_t>(0);
  return reply_list_sliced(c, req, std::move(spec),
                           [ids, next, &api = c.api, visit = std::move(visit)](json& items) {
                             if (*next < ids->size()) visit(api, (*ids)[(*next)++], items);
                             return *next < ids->size();
                           });
}

std::optional<ConnectionInfo> find_connection(const Call& c, const std::string& name) {
  const auto& h = c.api.hooks();
  const uint64_t id = h.connection_id_by_name ? h.connection_id_by_name(name) : 0;
  if (id == 0 || !h.connection) return std::nullopt;
  return h.connection(id);
}

std::optional<ChannelInfo> find_channel(const Call& c, const std::string& name) {
  // "<connection name> (N)": the connection's name holds spaces too, the number comes last.
  const size_t open = name.rfind(" (");
  if (open == std::string::npos || name.size() < open + 4 || name.back() != ')')
    return std::nullopt;
  const char* first = name.data() + open + 2;
  const char* last = name.data() + name.size() - 1;
  uint16_t number = 0;
  auto [end, ec] = std::from_chars(first, last, number);
  if (ec != std::errc() || end != last || *first == '0') return std::nullopt;
  const auto& h = c.api.hooks();
  const uint64_t id = h.connection_id_by_name ? h.connection_id_by_name(name.substr(0, open)) : 0;
  if (id == 0 || !h.channel) return std::nullopt;
  return h.channel(id, number);
}

}  // namespace pulse::http
