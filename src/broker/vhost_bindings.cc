#include "amqp/generated/constants.h"
#include "broker/broker.h"
#include "broker/vhost.h"

namespace pulse::broker {

namespace {
// Headers exchanges validate x-match when a binding is made.
Status validate_binding(const Exchange& x, const amqp::FieldTable& args) {
  if (x.type() != ExchangeType::kHeaders) return {};
  const amqp::FieldValue* m = amqp::find(args, "x-match");
  if (!m) return {};
  const std::string* s = m->as_string();
  if (!s) {
    return Error{amqp::kPreconditionFailed,
                 std::string("PRECONDITION_FAILED - Invalid x-match field type ") +
                     rabbit_type_name(*m) + " (value " + rabbit_value_text(*m) +
                     "); expected longstr"};
  }
  if (*s != "all" && *s != "any" && *s != "all-with-x" && *s != "any-with-x") {
    return Error{amqp::kPreconditionFailed,
                 "PRECONDITION_FAILED - Invalid x-match field value <<\"" + *s +
                     "\">>; expected all, any, all-with-x, or any-with-x"};
  }
  return {};
}

Error default_exchange_refused() {
  return Error{amqp::kAccessRefused,
               "ACCESS_REFUSED - operation not permitted on the default exchange"};
}
}  // namespace

Status VHost::bind_queue(const std::string& queue, const std::string& exchange,
                         const std::string& key, const amqp::FieldTable& args,
                         uint64_t connection_id) {
  if (exchange.empty()) return default_exchange_refused();
  // A missing source is reported before a missing destination, as RabbitMQ does.
  auto x = lookup_exchange(exchange);
  if (!x) return std::move(x).error();
  auto q = lookup_queue(queue, connection_id);
  if (!q) return std::move(q).error();
  if (auto s = validate_binding(**x, args); !s) return s;
  Binding b{exchange, Destination{false, queue}, key, args};
  if ((*x)->add_binding(b)) {
    if (auto* o = observer()) o->on_binding_added(*this, b);
  }
  return {};
}

Status VHost::unbind_queue(const std::string& queue, const std::string& exchange,
                           const std::string& key, const amqp::FieldTable& args,
                           uint64_t connection_id) {
  if (exchange.empty()) return default_exchange_refused();
  auto x = lookup_exchange(exchange);
  if (!x) return std::move(x).error();
  auto q = lookup_queue(queue, connection_id);
  if (!q) return std::move(q).error();
  if ((*x)->remove_binding(Destination{false, queue}, key, args)) {
    if (auto* o = observer()) {
      o->on_binding_removed(*this, Binding{exchange, Destination{false, queue}, key, args});
    }
    maybe_auto_delete_exchange(exchange);
  }
  return {};
}

Status VHost::bind_exchange(const std::string& dest, const std::string& source,
                            const std::string& key, const amqp::FieldTable& args) {
  if (dest.empty() || source.empty()) return default_exchange_refused();
  auto s = lookup_exchange(source);
  if (!s) return std::move(s).error();
  auto d = lookup_exchange(dest);
  if (!d) return std::move(d).error();
  if (auto v = validate_binding(**s, args); !v) return v;
  Binding b{source, Destination{true, dest}, key, args};
  if ((*s)->add_binding(b)) {
    if (auto* o = observer()) o->on_binding_added(*this, b);
  }
  return {};
}

Status VHost::unbind_exchange(const std::string& dest, const std::string& source,
                              const std::string& key, const amqp::FieldTable& args) {
  if (dest.empty() || source.empty()) return default_exchange_refused();
  auto s = lookup_exchange(source);
  if (!s) return std::move(s).error();
  auto d = lookup_exchange(dest);
  if (!d) return std::move(d).error();
  if ((*s)->remove_binding(Destination{true, dest}, key, args)) {
    if (auto* o = observer()) {
      o->on_binding_removed(*this, Binding{source, Destination{true, dest}, key, args});
    }
    maybe_auto_delete_exchange(source);
  }
  return {};
}

}  // namespace pulse::broker
