#include "http/views.h"

#include <cctype>
#include <chrono>
#include <cstring>

#include "amqp/field_table_json.h"
#include "auth/password.h"
#include "base/bytes.h"
#include "base/rfc3339.h"
#include "base/url.h"
#include "broker/policy.h"
#include "http/api.h"

namespace pulse::http {

using nlohmann::json;

std::string iso_time_ms(int64_t ms) {
  return format_rfc3339_utc(SystemTime(std::chrono::milliseconds(ms)), 3, "+00:00");
}

namespace {

std::string iso_time(broker::TimePoint t) {
  auto sys =
      std::chrono::system_clock::now() -
      std::chrono::duration_cast<std::chrono::system_clock::duration>(broker::Clock::now() - t);
  return iso_time_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count());
}

json policy_name(const std::shared_ptr<const broker::Policy>& p) {
  return p ? json(p->name()) : json(nullptr);
}

}  // namespace

std::string queue_type(const broker::Queue& q) {
  if (const amqp::FieldValue* t = amqp::find(q.arguments(), "x-queue-type"))
    if (const std::string* s = t->as_string()) return *s;
  return q.args().quorum ? "quorum" : "classic";
}

json queue_json(Api& api, broker::Queue& q, bool stats) {
  json j = {{"name", q.name()},           {"vhost", q.vhost().name()},
            {"durable", q.durable()},     {"auto_delete", q.auto_delete()},
            {"exclusive", q.exclusive()}, {"arguments", amqp::field_table_to_json(q.arguments())},
            {"type", queue_type(q)},      {"node", api.node_name()}};
  if (j["type"] == "quorum") {  // a single node is the whole Raft cluster
    j["leader"] = api.node_name();
    j["members"] = json::array({api.node_name()});
    j["online"] = json::array({api.node_name()});
  }
  if (!stats) return j;
  const uint64_t ready = q.message_count(), unacked = q.unacked_count();
  j["state"] = "running";
  j["policy"] = policy_name(q.policy());
  j["operator_policy"] = nullptr;
  j["effective_policy_definition"] =
      q.policy() ? amqp::field_table_to_json(q.policy()->definition()) : json::object();
  j["exclusive_consumer_tag"] = nullptr;
  for (const auto& c : q.consumers())
    if (c->exclusive) j["exclusive_consumer_tag"] = c->tag;
  j["single_active_consumer_tag"] = nullptr;
  const LengthRates lr = api.stats().queue_length_rates(q);
  j["messages"] = ready + unacked;
  j["messages_details"] = {{"rate", lr.messages}};
  j["messages_ready"] = ready;
  j["messages_ready_details"] = {{"rate", lr.ready}};
  j["messages_unacknowledged"] = unacked;
  j["messages_unacknowledged_details"] = {{"rate", lr.unacked}};
  j["messages_paged_out"] = q.paged_count();
  j["messages_ram"] = ready - q.paged_count();
  j["messages_ready_ram"] = ready - q.paged_count();
  j["messages_unacknowledged_ram"] = unacked;  // never paged
  j["recoverable_slaves"] = nullptr;           // no mirrors
  j["message_bytes"] = q.ready_bytes();
  j["message_bytes_ready"] = q.ready_bytes();
  j["message_bytes_ram"] = q.memory_bytes();
  j["message_bytes_unacknowledged"] = 0;
  j["memory"] = q.memory_bytes() + sizeof(broker::Queue) + q.name().size();
  j["consumers"] = q.consumer_count();
  // RabbitMQ reports the share of time consumers could take messages; without consumers
  // it is 0 (3.10), with ready consumers 1.0.
  j["consumer_utilisation"] = q.consumer_count() > 0 ? 1.0 : 0.0;
  j["consumer_capacity"] = q.consumer_count() > 0 ? 1.0 : 0.0;
  j["idle_since"] = iso_time(q.last_used());
  j["head_message_timestamp"] = nullptr;
  json ms = api.stats().queue_message_stats(q);
  if (!ms.is_null()) j["message_stats"] = std::move(ms);
  return j;
}

json exchange_json(Api& api, const broker::VHost& vh, const broker::Exchange& x) {
  json j = {{"name", x.name()},
            {"vhost", vh.name()},
            {"type", broker::exchange_type_name(x.type())},
            {"durable", x.durable()},
            {"auto_delete", x.auto_delete()},
            {"internal", x.internal()},
            {"arguments", amqp::field_table_to_json(x.arguments())},
            {"user_who_performed_action", "rmq-internal"}};
  if (x.policy()) j["policy"] = x.policy()->name();
  json ms = api.stats().exchange_message_stats(vh, x);
  if (!ms.is_null()) j["message_stats"] = std::move(ms);
  return j;
}

namespace {

// rabbit_mgmt_format's quote_binding: mochiweb's quote_plus (a space becomes '+'), then '~'
// escaped too, since '~' separates the routing key from the arguments' hash.
std::string quote_binding(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string properties_key(const broker::Binding& b) {
  // An empty key would make an empty path segment, which no DELETE could name.
  if (b.arguments.empty()) return b.routing_key.empty() ? "~" : quote_binding(b.routing_key);
  // FNV-1a over the encoded arguments: stable for equal tables, opaque to clients.
  std::string encoded;
  ByteWriter w(encoded);
  amqp::encode_table(w, b.arguments);
  uint64_t h = 1469598103934665603ull;
  for (char c : encoded) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  std::string raw(reinterpret_cast<const char*>(&h), sizeof h);
  std::string enc = auth::base64_encode(raw);
  for (char& c : enc) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!enc.empty() && enc.back() == '=') enc.pop_back();
  return quote_binding(b.routing_key) + "~" + enc;
}

json binding_json(const std::string& vhost, const broker::Binding& b) {
  return {{"source", b.source},
          {"vhost", vhost},
          {"destination", b.destination.name},
          {"destination_type", b.destination.is_exchange ? "exchange" : "queue"},
          {"routing_key", b.routing_key},
          {"arguments", amqp::field_table_to_json(b.arguments)},
          {"properties_key", properties_key(b)}};
}

json vhost_metadata_json(const broker::VHostMetadata& m) {
  json j = {{"description", m.description}, {"tags", m.tags}};
  if (!m.default_queue_type.empty()) j["default_queue_type"] = m.default_queue_type;
  return j;
}

json vhost_json(Api& api, const broker::VHost& vh, const QueueTotals& t) {
  const broker::VHostMetadata& m = vh.metadata();
  json j = {{"name", vh.name()},
            {"description", m.description},
            {"tags", m.tags},
            {"default_queue_type",
             m.default_queue_type.empty() ? std::string("undefined") : m.default_queue_type},
            {"metadata", vhost_metadata_json(m)},
            {"tracing", false},
            {"cluster_state", {{api.node_name(), "running"}}}};
  j.update(t.to_json(api.stats().vhost_length_rates(vh.name())));
  json ms = api.stats().vhost_message_stats(vh);
  if (!ms.is_null()) j["message_stats"] = std::move(ms);
  if (const auto* o = api.channel_stats().vhost_octets(vh.name())) {
    j["recv_oct"] = o->recv;
    j["recv_oct_details"] = {{"rate", o->recv_rate}};
    j["send_oct"] = o->send;
    j["send_oct_details"] = {{"rate", o->send_rate}};
  }
  return j;
}

json user_json(const auth::User& u) {
  return {{"name", u.name},
          {"password_hash", u.password_hash},
          {"hashing_algorithm", std::string(auth::hash_algorithm_name(u.algorithm))},
          {"tags", u.tags},
          {"limits", json(u.limits)}};
}

json permission_json(const auth::PermissionEntry& p) {
  return {{"user", p.user},
          {"vhost", p.vhost},
          {"configure", p.configure},
          {"write", p.write},
          {"read", p.read}};
}

json topic_permission_json(const auth::TopicPermissionEntry& p) {
  return {{"user", p.user},
          {"vhost", p.vhost},
          {"exchange", p.exchange},
          {"write", p.write},
          {"read", p.read}};
}

json policy_json(const broker::Policy& p) {
  return {{"vhost", p.vhost()},
          {"name", p.name()},
          {"pattern", p.pattern()},
          {"apply-to", broker::apply_to_name(p.apply_to())},
          {"definition", amqp::field_table_to_json(p.definition())},
          {"priority", p.priority()}};
}

}  // namespace pulse::http
