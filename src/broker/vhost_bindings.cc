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
}  // namespace

Result<Exchange*> VHost::resolve_binding(const std::string& source, const Destination& dest,
                                         uint64_t connection_id) {
  if (source.empty() || (dest.is_exchange && dest.name.empty())) return default_exchange_refused();
  // A missing source is reported before a missing destination, as RabbitMQ does.
  auto x = lookup_exchange(source);
  if (!x) return x;
  if (dest.is_exchange) {
    if (auto d = lookup_exchange(dest.name); !d) return std::move(d).error();
  } else {
    if (auto q = lookup_queue(dest.name, connection_id); !q) return std::move(q).error();
  }
  return x;
}

Status VHost::add_binding(const std::string& source, Destination dest, const std::string& key,
                          const amqp::FieldTable& args, uint64_t connection_id) {
  auto x = resolve_binding(source, dest, connection_id);
  if (!x) return std::move(x).error();
  if (auto s = validate_binding(**x, args); !s) return s;
  Binding b{source, std::move(dest), key, args};
  if ((*x)->add_binding(b)) {
    if (auto* o = observer()) o->on_binding_added(*this, b);
  }
  return {};
}

Status VHost::remove_binding(const std::string& source, const Destination& dest,
                             const std::string& key, const amqp::FieldTable& args,
                             uint64_t connection_id) {
  auto x = resolve_binding(source, dest, connection_id);
  if (!x) return std::move(x).error();
  if ((*x)->remove_binding(dest, key, args)) {
    if (auto* o = observer()) o->on_binding_removed(*this, Binding{source, dest, key, args});
    maybe_auto_delete_exchange(source);
  }
  return {};
}

}  // namespace pulse::broker
