// exchange.* and channel.* methods.
#include "broker/operations.h"
#include "server/amqp_connection.h"
#include "server/channel.h"

namespace pulse::server {

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
  if (auto* d = std::get_if<amqp::ExchangeDeclare>(&m)) {
    broker::ExchangeDeclare req;
    req.name = d->exchange;
    req.type = d->type;
    req.passive = d->passive;
    req.durable = d->durable;
    req.auto_delete = d->auto_delete;
    req.internal = d->internal;
    req.arguments = d->arguments;
    if (auto r = broker::ops::declare_exchange(principal_, req); !r) return std::move(r).error();
    if (!d->nowait) reply(amqp::ExchangeDeclareOk{});
    return {};
  }
  if (auto* d = std::get_if<amqp::ExchangeDelete>(&m)) {
    if (auto s = broker::ops::delete_exchange(principal_, d->exchange, d->if_unused); !s) return s;
    if (!d->nowait) reply(amqp::ExchangeDeleteOk{});
    return {};
  }
  if (auto* b = std::get_if<amqp::ExchangeBind>(&m)) {
    broker::Destination dest{true, b->destination};
    if (auto s = broker::ops::bind(principal_, b->source, dest, b->routing_key, b->arguments); !s)
      return s;
    if (!b->nowait) reply(amqp::ExchangeBindOk{});
    return {};
  }
  if (auto* b = std::get_if<amqp::ExchangeUnbind>(&m)) {
    broker::Destination dest{true, b->destination};
    if (auto s = broker::ops::unbind(principal_, b->source, dest, b->routing_key, b->arguments); !s)
      return s;
    if (!b->nowait) reply(amqp::ExchangeUnbindOk{});
    return {};
  }
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

}  // namespace pulse::server
