// queue.* methods.
#include "broker/names.h"
#include "server/amqp_connection.h"
#include "server/channel.h"

namespace pulse::server {

namespace {
constexpr std::string_view kReplyTo = "amq.rabbitmq.reply-to";
}

Result<std::string> Channel::queue_name(const std::string& name) const {
  if (!name.empty()) return name;
  if (last_declared_queue_.empty()) {
    return Error{amqp::kNotFound, "NOT_FOUND - no previously declared queue"};
  }
  return last_declared_queue_;
}

Status Channel::on_queue(amqp::Method& m) {
  broker::VHost& vh = *conn_.vhost();
  const uint64_t cid = conn_.id();
  if (auto* d = std::get_if<amqp::QueueDeclare>(&m)) {
    if (d->queue.starts_with(kReplyTo)) {
      bool exists = d->queue == kReplyTo ||
                    conn_.broker().find_reply_sink(d->queue.substr(kReplyTo.size() + 1)) != nullptr;
      if (!exists) {
        return Error{amqp::kNotFound,
                     "NOT_FOUND - no " + broker::resource_name("queue", d->queue, vh.name())};
      }
      if (!d->nowait) {
        amqp::QueueDeclareOk ok;
        ok.queue = d->queue;
        ok.consumer_count = 1;
        reply(ok);
      }
      return {};
    }
    bool server_named = false;
    if (!d->passive) {
      if (broker::is_reserved_name(d->queue)) {
        return Error{amqp::kAccessRefused, "ACCESS_REFUSED - queue name '" + d->queue +
                                               "' contains reserved prefix 'amq.*'"};
      }
      if (d->queue.empty()) {
        d->queue = conn_.broker().generate_name("amq.gen-");
        server_named = true;
      }
      if (auto s = check_access(d->queue, auth::Access::kConfigure, "queue"); !s) return s;
      if (!vh.find_queue(d->queue)) {
        if (auto* dlx = amqp::find(d->arguments, "x-dead-letter-exchange");
            dlx && dlx->as_string()) {
          if (auto s = check_access(d->queue, auth::Access::kRead, "queue"); !s) return s;
          if (auto s = check_access(*dlx->as_string(), auth::Access::kWrite, "exchange"); !s)
            return s;
        }
      }
    }
    broker::QueueDeclare req;
    req.name = d->queue;
    req.passive = d->passive;
    req.server_named = server_named;
    // Exclusive queues are never durable, as in RabbitMQ.
    req.durable = d->durable && !d->exclusive;
    req.exclusive = d->exclusive;
    req.auto_delete = d->auto_delete;
    req.arguments = d->arguments;
    req.connection_id = cid;
    auto q = vh.declare_queue(std::move(req));
    if (!q) return std::move(q).error();
    last_declared_queue_ = (*q)->name();
    if (!d->nowait) {
      amqp::QueueDeclareOk ok;
      ok.queue = (*q)->name();
      ok.message_count = static_cast<uint32_t>((*q)->message_count());
      ok.consumer_count = static_cast<uint32_t>((*q)->consumer_count());
      reply(ok);
    }
    return {};
  }
  if (auto* b = std::get_if<amqp::QueueBind>(&m)) {
    auto name = queue_name(b->queue);
    if (!name) return std::move(name).error();
    // An empty key with the queue shortcut binds with the queue's name.
    std::string key = b->routing_key.empty() && b->queue.empty() ? *name : b->routing_key;
    if (auto s = check_access(*name, auth::Access::kWrite, "queue"); !s) return s;
    if (b->exchange.empty()) {
      return Error{amqp::kAccessRefused,
                   "ACCESS_REFUSED - operation not permitted on the default exchange"};
    }
    if (auto s = check_access(b->exchange, auth::Access::kRead, "exchange"); !s) return s;
    if (auto* x = vh.find_exchange(b->exchange)) {
      if (auto s = check_topic(*x, key, auth::Access::kRead); !s) return s;
    }
    if (auto s = vh.bind_queue(*name, b->exchange, key, b->arguments, cid); !s) return s;
    if (!b->nowait) reply(amqp::QueueBindOk{});
    return {};
  }
  if (auto* u = std::get_if<amqp::QueueUnbind>(&m)) {
    auto name = queue_name(u->queue);
    if (!name) return std::move(name).error();
    if (auto s = check_access(*name, auth::Access::kWrite, "queue"); !s) return s;
    if (u->exchange.empty()) {
      return Error{amqp::kAccessRefused,
                   "ACCESS_REFUSED - operation not permitted on the default exchange"};
    }
    if (auto s = check_access(u->exchange, auth::Access::kRead, "exchange"); !s) return s;
    if (auto s = vh.unbind_queue(*name, u->exchange, u->routing_key, u->arguments, cid); !s)
      return s;
    reply(amqp::QueueUnbindOk{});
    return {};
  }
  if (auto* p = std::get_if<amqp::QueuePurge>(&m)) {
    auto name = queue_name(p->queue);
    if (!name) return std::move(name).error();
    if (auto s = check_access(*name, auth::Access::kRead, "queue"); !s) return s;
    auto n = vh.purge_queue(*name, cid);
    if (!n) return std::move(n).error();
    if (!p->nowait) {
      amqp::QueuePurgeOk ok;
      ok.message_count = static_cast<uint32_t>(*n);
      reply(ok);
    }
    return {};
  }
  if (auto* d = std::get_if<amqp::QueueDelete>(&m)) {
    auto name = queue_name(d->queue);
    if (!name) return std::move(name).error();
    if (auto s = check_access(*name, auth::Access::kConfigure, "queue"); !s) return s;
    auto n = vh.delete_queue(*name, d->if_unused, d->if_empty, cid);
    if (!n) return std::move(n).error();
    if (!d->nowait) {
      amqp::QueueDeleteOk ok;
      ok.message_count = static_cast<uint32_t>(*n);
      reply(ok);
    }
    return {};
  }
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

}  // namespace pulse::server
