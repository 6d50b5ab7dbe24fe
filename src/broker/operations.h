#pragma once
// The broker's client-facing operations: one function per action a protocol front-end offers
// (AMQP channel, management API, and next the STOMP session and the Pulse tools). Each takes
// the acting Principal and performs authorization, validation and the broker change in
// RabbitMQ 3.10's order (rabbit_channel:handle_method), so every rule and refusal text is
// written once. Failures carry RabbitMQ's reply code and text; a front-end maps them onto its
// own answers (a channel close, an HTTP status). Protocol specifics stay with the front-end:
// AMQP's "" queue shortcut, nowait, mandatory returns, confirms, transactions, direct
// reply-to delivery.
//
// The VHost methods these call are the trusted primitives (definitions import, recovery,
// tests): they check structure (existence, equivalence, reserved names) but no permission.
#include <memory>
#include <string>
#include <string_view>

#include "broker/principal.h"
#include "broker/vhost.h"

namespace pulse::broker::ops {

// The pseudo-queue of direct reply-to (RabbitMQ's amq.rabbitmq.reply-to).
inline constexpr std::string_view kDirectReplyTo = "amq.rabbitmq.reply-to";

// exchange.declare. A passive declare only looks the exchange up (no permission needed).
Result<Exchange*> declare_exchange(Principal& p, const ExchangeDeclare& d);
// exchange.delete: configure on the exchange; built-in exchanges are refused.
Status delete_exchange(Principal& p, const std::string& name, bool if_unused);

// queue.declare. An empty name gets a server-generated "amq.gen-" one. The queue's exclusive
// owner is the principal's connection; exclusive queues are never durable.
Result<QueuePtr> declare_queue(Principal& p, QueueDeclare d);
// queue.delete: configure on the queue. The number of messages it held.
Result<size_t> delete_queue(Principal& p, const std::string& name, bool if_unused, bool if_empty);
// queue.purge: read on the queue. The number of messages purged.
Result<size_t> purge_queue(Principal& p, const std::string& name);

// queue.bind / exchange.bind and their unbinds: write on the destination, read on the source
// exchange, then topic read on the key (topic sources).
Status bind(Principal& p, const std::string& source, const Destination& dest,
            const std::string& key, const amqp::FieldTable& args);
Status unbind(Principal& p, const std::string& source, const Destination& dest,
              const std::string& key, const amqp::FieldTable& args);

// basic.consume: read on the queue, the queue usable by this connection, x-priority valid,
// exclusivity respected. The caller attaches its consumer (Queue::add_consumer) once it has
// answered, since attaching may deliver at once.
struct ConsumeGrant {
  QueuePtr queue;
  int priority = 0;  // x-priority
};
Result<ConsumeGrant> check_consume(Principal& p, const std::string& queue, bool exclusive,
                                   const amqp::FieldTable& args);
// basic.get: read on the queue, and the queue usable by this connection.
Result<QueuePtr> check_get(Principal& p, const std::string& queue);

// basic.publish's checks: write on the exchange, the exchange exists and is not internal,
// topic write on the key, user_id is the user's (unless an impersonator), a valid expiration,
// CC/BCC headers are arrays, a reply-to of amq.rabbitmq.reply-to has a reply consumer
// (`reply_token`, the publishing channel's; empty when none), to which it is rewritten. The
// exchange to route through. On the publish path: one cached permission scan and one exchange
// lookup; properties are only decoded when the flags say a checked one is present.
Result<Exchange*> check_publish(Principal& p, Message& msg, std::string_view reply_token = {});
// check_publish, then route and enqueue.
Result<PublishOutcome> publish(Principal& p, const std::shared_ptr<Message>& msg,
                               std::string_view reply_token = {});

}  // namespace pulse::broker::ops
