#include "amqp/generated/constants.h"
#include "broker/vhost.h"

namespace pulse::broker {

namespace {
Error default_exchange_refused() {
  return Error{amqp::kAccessRefused,
               "ACCESS_REFUSED - operation not permitted on the default exchange"};
}
}  // namespace

Status VHost::bind_queue(const std::string& queue, const std::string& exchange,
                         const std::string& key, const amqp::FieldTable& args,
                         uint64_t connection_id) {
  if (exchange.empty()) return default_exchange_refused();
  auto q = lookup_queue(queue, connection_id);
  if (!q) return std::move(q).error();
  auto x = lookup_exchange(exchange);
  if (!x) return std::move(x).error();
  (*x)->add_binding(Binding{exchange, Destination{false, queue}, key, args});
  return {};
}

Status VHost::unbind_queue(const std::string& queue, const std::string& exchange,
                           const std::string& key, const amqp::FieldTable& args,
                           uint64_t connection_id) {
  if (exchange.empty()) return default_exchange_refused();
  auto q = lookup_queue(queue, connection_id);
  if (!q) return std::move(q).error();
  auto x = lookup_exchange(exchange);
  if (!x) return std::move(x).error();
  if ((*x)->remove_binding(Destination{false, queue}, key, args)) {
    maybe_auto_delete_exchange(exchange);
  }
  return {};
}

Status VHost::bind_exchange(const std::string& dest, const std::string& source,
                            const std::string& key, const amqp::FieldTable& args) {
  if (dest.empty() || source.empty()) return default_exchange_refused();
  auto d = lookup_exchange(dest);
  if (!d) return std::move(d).error();
  auto s = lookup_exchange(source);
  if (!s) return std::move(s).error();
  (*s)->add_binding(Binding{source, Destination{true, dest}, key, args});
  return {};
}

Status VHost::unbind_exchange(const std::string& dest, const std::string& source,
                              const std::string& key, const amqp::FieldTable& args) {
  if (dest.empty() || source.empty()) return default_exchange_refused();
  auto d = lookup_exchange(dest);
  if (!d) return std::move(d).error();
  auto s = lookup_exchange(source);
  if (!s) return std::move(s).error();
  if ((*s)->remove_binding(Destination{true, dest}, key, args)) {
    maybe_auto_delete_exchange(source);
  }
  return {};
}

}  // namespace pulse::broker
