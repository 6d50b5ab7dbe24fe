// exchange.* and channel.* methods.
#include "broker/names.h"
#include "server/amqp_connection.h"
#include "server/channel.h"

namespace pulse::server {

namespace {
Error not_permitted_on_default() {
  return Error{amqp::kAccessRefused,
               "ACCESS_REFUSED - operation not permitted on the default exchange"};
}
}  // namespace

Status Channel::check_access(const std::string& name, auth::Access access, const char* kind) {
  std::string_view resource = name;
  bool exchange = std::string_view(kind) == "exchange";
  if (exchange) resource = auth::permission_resource_name_for_exchange(name);
  // The kind is part of the key so a queue and an exchange of the same name stay distinct.
  // Compared in place: every publish checks, so this must not allocate.
  for (const auto& e : access_cache_)
    if (e.access == access && e.exchange == exchange && e.resource == resource) return {};
  if (!conn_.auth().check(conn_.user(), conn_.vhost()->name(), resource, access)) {
    return Error{amqp::kAccessRefused,
                 "ACCESS_REFUSED - access to " +
                     broker::resource_name(kind, std::string(resource), conn_.vhost()->name()) +
                     " refused for user '" + conn_.user() + "'"};
  }
  if (access_cache_.size() >= 16) access_cache_.erase(access_cache_.begin());
  access_cache_.push_back(AccessGranted{exchange, std::string(resource), access});
  return {};
}

Status Channel::check_topic(const broker::Exchange& x, const std::string& key,
                            auth::Access access) {
  if (x.type() != broker::ExchangeType::kTopic) return {};
  if (conn_.auth().check_topic(conn_.user(), conn_.vhost()->name(), x.name(), key, access)) {
    return {};
  }
  return Error{amqp::kAccessRefused, "ACCESS_REFUSED - access to topic '" + key +
                                         "' in exchange '" + x.name() + "' in vhost '" +
                                         conn_.vhost()->name() + "' refused for user '" +
                                         conn_.user() + "'"};
}

Status Channel::on_channel(amqp::Method& m) {
  if (std::holds_alternative<amqp::ChannelClose>(m)) {
    reply(amqp::ChannelCloseOk{});
    release();
    return {};
  }
  if (std::holds_alternative<amqp::ChannelCloseOk>(m)) return {};
  if (std::holds_alternative<amqp::ChannelOpen>(m)) {
    return Error{amqp::kChannelError, "CHANNEL_ERROR - second 'channel.open' seen"};
  }
  if (auto* f = std::get_if<amqp::ChannelFlow>(&m)) {
    if (!f->active) return Error{amqp::kNotImplemented, "NOT_IMPLEMENTED - active=false"};
    amqp::ChannelFlowOk ok;
    ok.active = true;
    reply(ok);
    return {};
  }
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

Status Channel::on_exchange(amqp::Method& m) {
  broker::VHost& vh = *conn_.vhost();
  if (auto* d = std::get_if<amqp::ExchangeDeclare>(&m)) {
    if (d->exchange.empty()) return not_permitted_on_default();
    if (d->passive) {
      auto x = vh.lookup_exchange(d->exchange);
      if (!x) return std::move(x).error();
    } else {
      if (!broker::parse_exchange_type(d->type)) {
        return Error{amqp::kCommandInvalid,
                     "COMMAND_INVALID - unknown exchange type '" + d->type + "'"};
      }
      if (auto s = check_access(d->exchange, auth::Access::kConfigure, "exchange"); !s) return s;
      if (!vh.find_exchange(d->exchange)) {
        if (broker::is_reserved_name(d->exchange)) {
          return Error{amqp::kAccessRefused, "ACCESS_REFUSED - exchange name '" + d->exchange +
                                                 "' contains reserved prefix 'amq.*'"};
        }
        if (auto* ae = amqp::find(d->arguments, "alternate-exchange")) {
          if (!ae->as_string()) {
            return Error{amqp::kPreconditionFailed,
                         std::string("PRECONDITION_FAILED - invalid type '") +
                             broker::rabbit_type_name(*ae) + "' for arg 'alternate-exchange' in " +
                             broker::resource_name("exchange", d->exchange, vh.name())};
          }
          if (auto s = check_access(d->exchange, auth::Access::kRead, "exchange"); !s) return s;
          if (auto s = check_access(*ae->as_string(), auth::Access::kWrite, "exchange"); !s)
            return s;
        }
      }
      broker::ExchangeDeclare req{d->exchange,    d->type,     false,       d->durable,
                                  d->auto_delete, d->internal, d->arguments};
      auto r = vh.declare_exchange(req);
      if (!r) return std::move(r).error();
    }
    if (!d->nowait) reply(amqp::ExchangeDeclareOk{});
    return {};
  }
  if (auto* d = std::get_if<amqp::ExchangeDelete>(&m)) {
    if (d->exchange.empty()) return not_permitted_on_default();
    if (broker::is_reserved_name(d->exchange)) {
      return Error{amqp::kAccessRefused,
                   "ACCESS_REFUSED - deletion of system " +
                       broker::resource_name("exchange", d->exchange, vh.name()) + " not allowed"};
    }
    if (auto s = check_access(d->exchange, auth::Access::kConfigure, "exchange"); !s) return s;
    if (auto s = vh.delete_exchange(d->exchange, d->if_unused); !s) return s;
    if (!d->nowait) reply(amqp::ExchangeDeleteOk{});
    return {};
  }
  auto bind_checks = [&](const std::string& dest, const std::string& src,
                         const std::string& key) -> Status {
    if (auto s = check_access(dest, auth::Access::kWrite, "exchange"); !s) return s;
    if (dest.empty() || src.empty()) return not_permitted_on_default();
    if (auto s = check_access(src, auth::Access::kRead, "exchange"); !s) return s;
    if (auto* x = vh.find_exchange(src)) return check_topic(*x, key, auth::Access::kRead);
    return {};
  };
  if (auto* b = std::get_if<amqp::ExchangeBind>(&m)) {
    if (auto s = bind_checks(b->destination, b->source, b->routing_key); !s) return s;
    if (auto s = vh.bind_exchange(b->destination, b->source, b->routing_key, b->arguments); !s)
      return s;
    if (!b->nowait) reply(amqp::ExchangeBindOk{});
    return {};
  }
  if (auto* b = std::get_if<amqp::ExchangeUnbind>(&m)) {
    if (auto s = bind_checks(b->destination, b->source, b->routing_key); !s) return s;
    if (auto s = vh.unbind_exchange(b->destination, b->source, b->routing_key, b->arguments); !s)
      return s;
    if (!b->nowait) reply(amqp::ExchangeUnbindOk{});
    return {};
  }
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

}  // namespace pulse::server
