// queue.* methods: AMQP's parts (the "" queue shortcut, direct reply-to's pseudo-queue, nowait,
// replies) around the broker operations.
#include "broker/operations.h"
#include "server/amqp_connection.h"
#include "server/channel.h"

namespace pulse::server {

using broker::ops::kDirectReplyTo;

Result<std::string> Channel::queue_name(const std::string& name) const {
  if (!name.empty()) return name;
  if (last_declared_queue_.empty()) {
    return Error{amqp::kNotFound, "NOT_FOUND - no previously declared queue"};
  }
  return last_declared_queue_;
}

Status Channel::on_queue(amqp::Method& m) {
  if (auto* d = std::get_if<amqp::QueueDeclare>(&m)) return queue_declare(*d);
  if (auto* b = std::get_if<amqp::QueueBind>(&m)) return queue_bind(*b);
  if (auto* u = std::get_if<amqp::QueueUnbind>(&m)) return queue_unbind(*u);
  if (auto* p = std::get_if<amqp::QueuePurge>(&m)) return queue_purge(*p);
  if (auto* d = std::get_if<amqp::QueueDelete>(&m)) return queue_delete(*d);
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

Status Channel::queue_declare(amqp::QueueDeclare& d) {
  if (d.queue.starts_with(kDirectReplyTo)) {
    // Direct reply-to's pseudo-queue "exists" for its own name and each live reply consumer.
    bool exists =
        d.queue == kDirectReplyTo ||
        conn_.broker().find_reply_sink(d.queue.substr(kDirectReplyTo.size() + 1)) != nullptr;
    if (!exists) return broker::not_found("queue", d.queue, conn_.vhost()->name());
    if (!d.nowait) {
      amqp::QueueDeclareOk ok;
      ok.queue = d.queue;
      ok.consumer_count = 1;
      reply(ok);
    }
    return {};
  }
  broker::QueueDeclare req;
  req.name = std::move(d.queue);
  req.passive = d.passive;
  req.durable = d.durable;
  req.exclusive = d.exclusive;
  req.auto_delete = d.auto_delete;
  req.arguments = std::move(d.arguments);
  auto q = broker::ops::declare_queue(principal_, std::move(req));
  if (!q) return std::move(q).error();
  last_declared_queue_ = (*q)->name();
  if (!d.nowait) {
    amqp::QueueDeclareOk ok;
    ok.queue = (*q)->name();
    ok.message_count = static_cast<uint32_t>((*q)->message_count());
    ok.consumer_count = static_cast<uint32_t>((*q)->consumer_count());
    reply(ok);
  }
  return {};
}

Status Channel::queue_bind(const amqp::QueueBind& b) {
  auto name = queue_name(b.queue);
  if (!name) return std::move(name).error();
  // An empty key with the queue shortcut binds with the queue's name.
  const std::string& key = b.routing_key.empty() && b.queue.empty() ? *name : b.routing_key;
  broker::Destination dest{false, *name};
  if (auto s = broker::ops::bind(principal_, b.exchange, dest, key, b.arguments); !s) return s;
  if (!b.nowait) reply(amqp::QueueBindOk{});
  return {};
}

Status Channel::queue_unbind(const amqp::QueueUnbind& u) {
  auto name = queue_name(u.queue);
  if (!name) return std::move(name).error();
  broker::Destination dest{false, *name};
  if (auto s = broker::ops::unbind(principal_, u.exchange, dest, u.routing_key, u.arguments); !s)
    return s;
  reply(amqp::QueueUnbindOk{});  // queue.unbind has no nowait
  return {};
}

Status Channel::queue_purge(const amqp::QueuePurge& p) {
  auto name = queue_name(p.queue);
  if (!name) return std::move(name).error();
  auto n = broker::ops::purge_queue(principal_, *name);
  if (!n) return std::move(n).error();
  if (!p.nowait) {
    amqp::QueuePurgeOk ok;
    ok.message_count = static_cast<uint32_t>(*n);
    reply(ok);
  }
  return {};
}

Status Channel::queue_delete(const amqp::QueueDelete& d) {
  auto name = queue_name(d.queue);
  if (!name) return std::move(name).error();
  auto n = broker::ops::delete_queue(principal_, *name, d.if_unused, d.if_empty);
  if (!n) return std::move(n).error();
  if (!d.nowait) {
    amqp::QueueDeleteOk ok;
    ok.message_count = static_cast<uint32_t>(*n);
    reply(ok);
  }
  return {};
}

}  // namespace pulse::server
