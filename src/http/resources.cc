#include "http/resources.h"

#include "amqp/field_table_json.h"
#include "auth/password.h"
#include "broker/operations.h"
#include "http/decode.h"

namespace pulse::http {

using nlohmann::json;

broker::Principal principal(const Call& c, broker::VHost& vh) {
  return broker::Principal(c.auth(), c.user.name, vh);
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

// Message properties from the management API's JSON, checked as rabbit_mgmt_format's
// to_basic_properties does: in the fields' order, the first wrong one is the 400's reason.
std::optional<Response> apply_properties(const json& p, amqp::BasicProperties& out) {
  if (!p.is_object()) return bad_request("properties must be an object");
  using P = amqp::BasicProperties;
  enum Kind { kString, kInt, kTable };
  struct Field {
    const char* key;
    Kind kind;
    void (*set)(P&, const json&);
  };
  static const Field kFields[] = {
      {"content_type", kString, [](P& o, const json& v) { o.set_content_type(v); }},
      {"content_encoding", kString, [](P& o, const json& v) { o.set_content_encoding(v); }},
      {"headers", kTable, nullptr},
      {"delivery_mode", kInt, [](P& o, const json& v) { o.set_delivery_mode(v.get<uint8_t>()); }},
      {"priority", kInt, [](P& o, const json& v) { o.set_priority(v.get<uint8_t>()); }},
      {"correlation_id", kString, [](P& o, const json& v) { o.set_correlation_id(v); }},
      {"reply_to", kString, [](P& o, const json& v) { o.set_reply_to(v); }},
      {"expiration", kString, [](P& o, const json& v) { o.set_expiration(v); }},
      {"message_id", kString, [](P& o, const json& v) { o.set_message_id(v); }},
      {"timestamp", kInt, [](P& o, const json& v) { o.set_timestamp(v.get<uint64_t>()); }},
      {"type", kString, [](P& o, const json& v) { o.set_type(v); }},
      {"user_id", kString, [](P& o, const json& v) { o.set_user_id(v); }},
      {"app_id", kString, [](P& o, const json& v) { o.set_app_id(v); }},
      {"cluster_id", kString, [](P& o, const json& v) { o.set_cluster_id(v); }},
  };
  for (const Field& f : kFields) {
    auto it = p.find(f.key);
    if (it == p.end() || it->is_null()) continue;
    if (f.kind == kString && !it->is_string()) return bad_request_term("not_string", f.key);
    if (f.kind == kInt && !it->is_number_integer()) return bad_request_term("not_int", f.key);
    if (f.kind != kTable) {
      f.set(out, *it);
      continue;
    }
    if (!it->is_object()) return bad_request("headers must be an object");
    auto t = amqp::json_to_field_table(*it);
    if (!t) return bad_request(t.error().text);
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

// RabbitMQ publishes through a channel as the user and waits for the confirm; what closes
// that channel comes back as a 400 with the channel error's code and text.
Response publish_message(const Call& c, broker::VHost& vh, const std::string& exchange) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  if (auto e = require_keys(*body, {"routing_key", "properties", "payload", "payload_encoding"}))
    return *e;
  const json& payload = (*body)["payload"];
  if (!payload.is_string()) return bad_request("payload_not_string");
  const json& rk = (*body)["routing_key"];
  if (!rk.is_string()) return bad_request_term("not_string", "routing_key");
  amqp::BasicProperties props;
  if (auto e = apply_properties((*body)["properties"], props)) return *e;
  broker::Message msg;
  msg.exchange = exchange;
  msg.routing_key = rk.get<std::string>();
  const json& encoding = (*body)["payload_encoding"];
  if (encoding == "string") {
    msg.body = payload.get<std::string>();
  } else if (encoding == "base64") {
    auto d = auth::base64_decode(payload.get<std::string>());
    if (!d) return bad_request_term("not_base64", payload);
    msg.body = std::move(*d);
  } else {
    return bad_request_term("unsupported_encoding", encoding);
  }
  msg.set_properties(std::move(props));
  auto who = principal(c, vh);
  auto r = broker::ops::publish(who, std::make_shared<broker::Message>(std::move(msg)));
  if (!r) return bad_request(std::to_string(r.error().code) + " " + r.error().text);
  return json_response({{"routed", r->routed > 0}});
}

Response get_messages(const Call& c, broker::VHost& vh, const std::string& queue) {
  Response err;
  auto body = parse_body(c, err);
  if (!body) return err;
  auto who = principal(c, vh);
  // Permission is checked before the body's fields, the queue after them.
  if (auto s = who.check(broker::Resource::kQueue, queue, auth::Access::kRead); !s)
    return broker_error(s.error());
  if (auto e = require_keys(*body, {"ackmode", "count", "encoding"})) return *e;
  int64_t count = 0, truncate = -1;
  if (auto e = read_int((*body)["count"], count)) return *e;
  const json& encoding = (*body)["encoding"];
  if (encoding != "auto" && encoding != "base64")
    return bad_request("Unsupported encoding. Please use auto or base64.");
  if (auto t = body->find("truncate"); t != body->end())
    if (auto e = read_int(*t, truncate)) return *e;
  const json& mode = (*body)["ackmode"];
  const std::string ackmode = mode.is_string() ? mode.get<std::string>() : mode.dump();
  bool requeue = ackmode == "ack_requeue_true" || ackmode == "reject_requeue_true";
  bool reject = ackmode == "reject_requeue_true" || ackmode == "reject_requeue_false";
  if (!requeue && ackmode != "ack_requeue_false" && ackmode != "reject_requeue_false")
    return bad_request("invalid ackmode '" + ackmode + "'");
  auto found = broker::ops::check_get(who, queue);
  if (!found) {
    const Error& e = found.error();
    if (e.code == amqp::kNotFound) return error_response(404, "not_found", e.text);
    if (e.code == amqp::kResourceLocked)
      return bad_request("queue is exclusive to another connection");
    return broker_error(e);
  }
  broker::QueuePtr q = std::move(*found);
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
