#include "http/resources.h"

#include "amqp/field_table_json.h"
#include "auth/password.h"

namespace pulse::http {

using nlohmann::json;

bool check_permission(const Call& c, const std::string& vhost, const std::string& name,
                      auth::Access access, bool exchange) {
  std::string_view resource = exchange ? auth::permission_resource_name_for_exchange(name) : name;
  return c.auth().check(c.user.name, vhost, resource, access);
}

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    size_t n = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : (ch >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

// Message properties from the management API's JSON, with RabbitMQ's names.
std::optional<std::string> apply_properties(const json& p, amqp::BasicProperties& out) {
  if (p.is_null()) return std::nullopt;
  if (!p.is_object()) return "properties must be an object";
  auto str = [&](const char* key, void (amqp::BasicProperties::*set)(const std::string&)) {
    if (auto it = p.find(key); it != p.end() && it->is_string()) (out.*set)(it->get<std::string>());
  };
  str("content_type", &amqp::BasicProperties::set_content_type);
  str("content_encoding", &amqp::BasicProperties::set_content_encoding);
  str("correlation_id", &amqp::BasicProperties::set_correlation_id);
  str("reply_to", &amqp::BasicProperties::set_reply_to);
  str("expiration", &amqp::BasicProperties::set_expiration);
  str("message_id", &amqp::BasicProperties::set_message_id);
  str("type", &amqp::BasicProperties::set_type);
  str("user_id", &amqp::BasicProperties::set_user_id);
  str("app_id", &amqp::BasicProperties::set_app_id);
  if (auto it = p.find("delivery_mode"); it != p.end() && it->is_number_integer())
    out.set_delivery_mode(static_cast<uint8_t>(it->get<int>()));
  if (auto it = p.find("priority"); it != p.end() && it->is_number_integer())
    out.set_priority(static_cast<uint8_t>(it->get<int>()));
  if (auto it = p.find("timestamp"); it != p.end() && it->is_number_integer())
    out.set_timestamp(it->get<uint64_t>());
  if (auto it = p.find("headers"); it != p.end() && it->is_object()) {
    auto t = amqp::json_to_field_table(*it);
    if (!t) return t.error().text;
    out.set_headers(*t);
  }
  return std::nullopt;
}

json properties_json(const amqp::BasicProperties& p) {
  json j = json::object();
  using P = amqp::BasicProperties;
  if (p.has(P::kContentType)) j["content_type"] = p.content_type;
  if (p.has(P::kContentEncoding)) j["content_encoding"] = p.content_encoding;
  if (p.has(P::kHeaders)) j["headers"] = amqp::field_table_to_json(p.headers);
  if (p.has(P::kDeliveryMode)) j["delivery_mode"] = p.delivery_mode;
  if (p.has(P::kPriority)) j["priority"] = p.priority;
  if (p.has(P::kCorrelationId)) j["correlation_id"] = p.correlation_id;
  if (p.has(P::kReplyTo)) j["reply_to"] = p.reply_to;
  if (p.has(P::kExpiration)) j["expiration"] = p.expiration;
  if (p.has(P::kMessageId)) j["message_id"] = p.message_id;
  if (p.has(P::kTimestamp)) j["timestamp"] = p.timestamp;
  if (p.has(P::kType)) j["type"] = p.type;
  if (p.has(P::kUserId)) j["user_id"] = p.user_id;
  if (p.has(P::kAppId)) j["app_id"] = p.app_id;
  if (p.has(P::kClusterId)) j["cluster_id"] = p.cluster_id;
  // Erlang's empty proplist prints as an empty list.
  return j.empty() ? json::array() : j;
}

}  // namespace

Response publish_message(const Call& c, broker::VHost& vh, const std::string& exchange) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  if (!check_permission(c, vh.name(), exchange, auth::Access::kWrite, true))
    return not_authorised("Access refused.");
  auto rk = body->find("routing_key");
  auto payload = body->find("payload");
  if (rk == body->end() || !rk->is_string()) return bad_request("[{key_missing,routing_key}]");
  if (payload == body->end() || !payload->is_string())
    return bad_request("[{key_missing,payload}]");
  std::string encoding = body->value("payload_encoding", "string");
  broker::Message msg;
  msg.exchange = exchange;
  msg.routing_key = rk->get<std::string>();
  if (encoding == "string") {
    msg.body = payload->get<std::string>();
  } else if (encoding == "base64") {
    auto d = auth::base64_decode(payload->get<std::string>());
    if (!d) return bad_request("not_base64");
    msg.body = std::move(*d);
  } else {
    return bad_request("invalid payload_encoding");
  }
  amqp::BasicProperties props;
  if (auto p = body->find("properties"); p != body->end()) {
    if (auto e = apply_properties(*p, props)) return bad_request(*e);
  }
  // RabbitMQ validates user_id against the publishing user.
  if (props.has(amqp::BasicProperties::kUserId) && props.user_id != c.user.name)
    return bad_request("user_id property set to '" + props.user_id +
                       "' but authenticated user was '" + c.user.name + "'");
  const broker::Exchange* x = vh.find_exchange(exchange);
  if (x == nullptr) return not_found();
  if (x->type() == broker::ExchangeType::kTopic &&
      !c.auth().check_topic(c.user.name, vh.name(), exchange, msg.routing_key,
                            auth::Access::kWrite))
    return not_authorised("Access refused.");
  msg.set_properties(std::move(props));
  auto r = vh.publish(std::move(msg));
  if (!r) return broker_error(r.error());
  return json_response({{"routed", r->routed > 0}});
}

Response get_messages(const Call& c, broker::VHost& vh, const std::string& queue) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  if (!check_permission(c, vh.name(), queue, auth::Access::kRead, false))
    return not_authorised("Access refused.");
  auto q = vh.find_queue(queue);
  if (!q) return not_found();
  if (q->exclusive()) return bad_request("queue is exclusive to another connection");
  // rabbitmqadmin sends numbers as strings.
  auto number = [&](const char* key, int64_t def) -> int64_t {
    auto it = body->find(key);
    if (it == body->end()) return def;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_string()) {
      const std::string& s = it->get_ref<const std::string&>();
      if (!s.empty() && s.size() < 18 && s.find_first_not_of("0123456789") == std::string::npos)
        return std::stoll(s);
    }
    return def;
  };
  int64_t count = number("count", 1);
  std::string ackmode = body->value("ackmode", "");
  std::string encoding = body->value("encoding", "auto");
  int64_t truncate = number("truncate", -1);
  if (ackmode.empty()) {
    // Older clients send "requeue": true/false.
    if (auto rq = body->find("requeue"); rq != body->end() && rq->is_boolean())
      ackmode = rq->get<bool>() ? "ack_requeue_true" : "ack_requeue_false";
    else
      return bad_request("[{key_missing,ackmode}]");
  }
  bool requeue = ackmode == "ack_requeue_true" || ackmode == "reject_requeue_true";
  bool reject = ackmode == "reject_requeue_true" || ackmode == "reject_requeue_false";
  if (!requeue && ackmode != "ack_requeue_false" && ackmode != "reject_requeue_false")
    return bad_request("invalid ackmode '" + ackmode + "'");
  if (encoding != "auto" && encoding != "base64") return bad_request("invalid encoding");
  std::vector<broker::QueuedMessage> taken;
  json out = json::array();
  for (int64_t i = 0; i < count; ++i) {
    auto m = q->get(false);
    if (!m) break;
    const broker::Message& msg = *m->msg;
    std::string payload = msg.body;
    size_t bytes = payload.size();
    if (truncate >= 0 && payload.size() > static_cast<size_t>(truncate)) payload.resize(truncate);
    json item = {{"payload_bytes", bytes},
                 {"redelivered", m->redelivered},
                 {"exchange", msg.exchange},
                 {"routing_key", msg.routing_key},
                 {"message_count", q->message_count()},
                 {"properties", properties_json(msg.properties())}};
    if (encoding == "auto" && valid_utf8(payload)) {
      item["payload"] = payload;
      item["payload_encoding"] = "string";
    } else {
      item["payload"] = auth::base64_encode(payload);
      item["payload_encoding"] = "base64";
    }
    out.push_back(std::move(item));
    taken.push_back(std::move(*m));
  }
  for (auto& m : taken) {
    if (requeue)
      q->requeue(std::move(m));
    else if (reject)
      q->settle_rejected(std::move(m));
    else
      q->settle_acked(m);
  }
  if (requeue) q->dispatch();
  return json_response(out);
}

}  // namespace pulse::http

namespace pulse::http {

void for_each_binding(broker::VHost& vh, const std::string* source,
                      const std::function<void(const broker::Binding&)>& fn) {
  if (source == nullptr || source->empty()) {
    broker::Binding b;
    for (const auto& [qn, q] : vh.queues()) {
      b.destination = broker::Destination{false, qn};
      b.routing_key = qn;
      fn(b);
    }
    if (source != nullptr) return;
  }
  for (const auto& [xn, x] : vh.exchanges()) {
    if (xn.empty() || (source != nullptr && xn != *source)) continue;
    for (const auto& b : x->bindings()) fn(b);
  }
}

void for_each_binding_to(broker::VHost& vh, const std::string* source,
                         const broker::Destination& dest,
                         const std::function<void(const broker::Binding&)>& fn) {
  if ((source == nullptr || source->empty()) && !dest.is_exchange && vh.find_queue(dest.name)) {
    broker::Binding b;
    b.destination = dest;
    b.routing_key = dest.name;
    fn(b);
  }
  if (source != nullptr && source->empty()) return;
  auto visit = [&](const broker::Exchange& x) {
    for (const auto& b : x.bindings())
      if (b.destination == dest) fn(b);
  };
  if (source != nullptr) {
    if (const auto* x = vh.find_exchange(*source)) visit(*x);
    return;
  }
  for (const auto& [xn, x] : vh.exchanges())
    if (!xn.empty()) visit(*x);
}

bool BindingsWalk::step(broker::Broker& b,
                        const std::function<void(broker::VHost&, const broker::Binding&)>& visit) {
  for (broker::VHost* vh = vhosts_.vhost(b); vh != nullptr; vh = vhosts_.next_vhost(b)) {
    if (at_ != vh->name()) {
      at_ = vh->name();
      in_exchanges_ = !implicit_;
      key_.reset();
      index_ = 0;
    }
    if (!in_exchanges_) {
      const auto& qs = vh->queues();
      auto it = key_ ? qs.upper_bound(*key_) : qs.begin();
      if (it != qs.end()) {
        key_ = it->first;
        visit(*vh, broker::Binding{"", broker::Destination{false, it->first}, it->first, {}});
        return true;
      }
      in_exchanges_ = true;
      key_.reset();
      index_ = 0;
    }
    const auto& xs = vh->exchanges();
    auto it = key_ ? xs.lower_bound(*key_) : xs.begin();
    if (key_ && (it == xs.end() || it->first != *key_)) index_ = 0;  // that exchange went
    for (; it != xs.end(); ++it, index_ = 0) {
      if (it->first.empty()) continue;
      const auto& bs = it->second->bindings();
      if (index_ < bs.size()) {
        key_ = it->first;
        visit(*vh, bs[index_++]);
        return true;
      }
    }
  }
  return false;
}

}  // namespace pulse::http
