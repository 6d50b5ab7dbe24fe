// Publish, consume and get (declare, delete and bind: operations.cc).
#include "broker/operations.h"

namespace pulse::broker::ops {

using auth::Access;

namespace {

// RabbitMQ's parse_expiration: a non-negative decimal integer.
Status check_expiration(const std::string& e) {
  size_t i = 0;
  bool neg = false;
  if (i < e.size() && (e[i] == '-' || e[i] == '+')) neg = e[i++] == '-';
  size_t digits_start = i;
  while (i < e.size() && e[i] >= '0' && e[i] <= '9') ++i;
  if (i == digits_start) return precondition_failed("invalid expiration '" + e + "': no_integer");
  if (i != e.size()) {
    return precondition_failed("invalid expiration '" + e + "': {leftover_string,\"" + e.substr(i) +
                               "\"}");
  }
  if (neg && e.find_first_not_of("-0") != std::string::npos) {
    return precondition_failed("invalid expiration '" + e + "': {value_negative," + e + "}");
  }
  return {};
}

// Sender-selected distribution headers must be arrays (of routing keys).
Status check_cc_headers(const Message& msg) {
  if (!msg.has(amqp::BasicProperties::kHeaders)) return {};
  for (const char* h : {"CC", "BCC"}) {
    const amqp::FieldValue* v = amqp::find(msg.properties().headers, h);
    if (v && !v->as_array()) {
      return precondition_failed(std::string("invalid message: {unacceptable_type_in_header,\"") +
                                 h + "\"," + rabbit_type_name(*v) + "}");
    }
  }
  return {};
}

}  // namespace

Result<Exchange*> check_publish(Principal& p, Message& msg, std::string_view reply_token) {
  using P = amqp::BasicProperties;
  VHost& vh = p.vhost();
  if (auto s = p.check(Resource::kExchange, msg.exchange, Access::kWrite); !s) return s.error();
  Exchange* x = vh.find_exchange(msg.exchange);
  if (!x) return not_found("exchange", msg.exchange, vh.name());
  if (x->internal()) return internal_exchange_refused(msg.exchange, vh.name());
  if (auto s = p.check_topic(*x, msg.routing_key, Access::kWrite); !s) return s.error();
  // Only messages carrying one of these need their properties decoded.
  if (msg.has(P::kUserId) && msg.properties().user_id != p.user() && !p.has_tag("impersonator")) {
    return precondition_failed("user_id property set to '" + msg.properties().user_id +
                               "' but authenticated user was '" + p.user() + "'");
  }
  if (msg.has(P::kExpiration)) {
    if (auto s = check_expiration(msg.properties().expiration); !s) return s.error();
  }
  if (auto s = check_cc_headers(msg); !s) return s.error();
  if (msg.has(P::kReplyTo) && msg.properties().reply_to == kDirectReplyTo) {
    if (reply_token.empty()) return precondition_failed("fast reply consumer does not exist");
    P props = msg.properties();
    props.reply_to = std::string(kDirectReplyTo) + "." + std::string(reply_token);
    msg.set_properties(std::move(props));
  }
  return x;
}

Result<PublishOutcome> publish(Principal& p, const std::shared_ptr<Message>& msg,
                               std::string_view reply_token) {
  auto x = check_publish(p, *msg, reply_token);
  if (!x) return std::move(x).error();
  return p.vhost().publish(**x, msg);
}

Result<ConsumeGrant> check_consume(Principal& p, const std::string& queue, bool exclusive,
                                   const amqp::FieldTable& args) {
  auto q = check_get(p, queue);
  if (!q) return std::move(q).error();
  ConsumeGrant grant{std::move(*q), 0};
  const Queue& qu = *grant.queue;
  if (const auto* prio = amqp::find(args, "x-priority")) {
    auto v = prio->as_int();
    if (!v) {
      return precondition_failed("invalid arg 'x-priority' for " + qu.describe() +
                                 ": {unacceptable_type," + rabbit_type_name(*prio) + "}");
    }
    grant.priority = static_cast<int>(*v);
  }
  if ((exclusive && qu.consumer_count() > 0) || qu.has_exclusive_consumer()) {
    return Error{amqp::kAccessRefused, "ACCESS_REFUSED - " + qu.describe() + " in exclusive use"};
  }
  return grant;
}

Result<QueuePtr> check_get(Principal& p, const std::string& queue) {
  if (auto s = p.check(Resource::kQueue, queue, Access::kRead); !s) return s.error();
  return p.vhost().lookup_queue(queue, p.connection_id());
}

}  // namespace pulse::broker::ops
