// Synchronous channel methods: open/close, exchanges, queues, qos, consume, get, confirms.
#include "client/channel.h"

#include "amqp/basic_frames.h"
#include "client/connection.h"

namespace pulse::client {

Status Channel::check_usable() const {
  if (state_ == State::kOpen) return {};
  if (error_) return *error_;
  return Error{0, "channel " + std::to_string(id_) + " is closed"};
}

template <typename Reply, typename M>
Result<Reply> Channel::call(const M& m) {
  if (conn_->in_handler()) {
    return Error{0, std::string("cannot call ") + M::kName + " from a handler"};
  }
  if (state_ != State::kOpen &&
      !(state_ == State::kOpening && M::kClassId == amqp::kClassChannel)) {
    if (auto st = check_usable(); !st) return std::move(st).error();
  }
  expect_ = amqp::kMethodKey<Reply>;
  reply_.reset();
  amqp::append_method_frame(conn_->out(), id_, m);
  auto st = conn_->wait_for([this] { return reply_.has_value() || state_ == State::kClosed; },
                            Reply::kName);
  expect_ = expect_alt_ = 0;
  if (reply_) {
    amqp::Method r = std::move(*reply_);
    reply_.reset();
    if (auto* typed = std::get_if<Reply>(&r)) return std::move(*typed);
    return Error{0, std::string("unexpected reply to ") + M::kName};
  }
  if (error_) return *error_;
  if (!st) return std::move(st).error();
  return Error{0, std::string("channel closed while waiting for ") + Reply::kName};
}

Status Channel::open() {
  auto r = call<amqp::ChannelOpenOk>(amqp::ChannelOpen{});
  if (!r) return std::move(r).error();
  state_ = State::kOpen;
  return {};
}

Status Channel::close() {
  if (conn_->in_handler()) return Error{0, "cannot close a channel from a handler"};
  Connection* conn = conn_;
  const uint16_t id = id_;
  Status st;
  if (state_ == State::kOpen) {
    amqp::ChannelClose c;
    c.reply_code = amqp::kReplySuccess;
    c.reply_text = "Goodbye";
    state_ = State::kClosing;
    expect_ = amqp::kMethodKey<amqp::ChannelCloseOk>;
    amqp::append_method_frame(conn_->out(), id_, c);
    st = conn_->wait_for([this] { return reply_.has_value() || state_ == State::kClosed; },
                         "channel.close-ok");
    // A channel.close from the server crossing ours also ends the channel; its error is the
    // news then.
    if (error_) st = *error_;
  }
  conn->release_channel(id);  // destroys *this
  return st;
}

Status Channel::exchange_declare(std::string_view name, std::string_view type,
                                 const ExchangeOptions& o) {
  amqp::ExchangeDeclare m;
  m.exchange = std::string(name);
  m.type = std::string(type);
  m.passive = o.passive;
  m.durable = o.durable;
  m.auto_delete = o.auto_delete;
  m.internal = o.internal;
  m.arguments = o.arguments;
  auto r = call<amqp::ExchangeDeclareOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Status Channel::exchange_delete(std::string_view name, bool if_unused) {
  amqp::ExchangeDelete m;
  m.exchange = std::string(name);
  m.if_unused = if_unused;
  auto r = call<amqp::ExchangeDeleteOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Status Channel::exchange_bind(std::string_view destination, std::string_view source,
                              std::string_view routing_key, const amqp::FieldTable& arguments) {
  amqp::ExchangeBind m;
  m.destination = std::string(destination);
  m.source = std::string(source);
  m.routing_key = std::string(routing_key);
  m.arguments = arguments;
  auto r = call<amqp::ExchangeBindOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Status Channel::exchange_unbind(std::string_view destination, std::string_view source,
                                std::string_view routing_key, const amqp::FieldTable& arguments) {
  amqp::ExchangeUnbind m;
  m.destination = std::string(destination);
  m.source = std::string(source);
  m.routing_key = std::string(routing_key);
  m.arguments = arguments;
  auto r = call<amqp::ExchangeUnbindOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Result<QueueInfo> Channel::queue_declare(std::string_view name, const QueueOptions& o) {
  amqp::QueueDeclare m;
  m.queue = std::string(name);
  m.passive = o.passive;
  m.durable = o.durable;
  m.exclusive = o.exclusive;
  m.auto_delete = o.auto_delete;
  m.arguments = o.arguments;
  auto r = call<amqp::QueueDeclareOk>(m);
  if (!r) return std::move(r).error();
  return QueueInfo{std::move(r->queue), r->message_count, r->consumer_count};
}

Status Channel::queue_bind(std::string_view queue, std::string_view exchange,
                           std::string_view routing_key, const amqp::FieldTable& arguments) {
  amqp::QueueBind m;
  m.queue = std::string(queue);
  m.exchange = std::string(exchange);
  m.routing_key = std::string(routing_key);
  m.arguments = arguments;
  auto r = call<amqp::QueueBindOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Status Channel::queue_unbind(std::string_view queue, std::string_view exchange,
                             std::string_view routing_key, const amqp::FieldTable& arguments) {
  amqp::QueueUnbind m;
  m.queue = std::string(queue);
  m.exchange = std::string(exchange);
  m.routing_key = std::string(routing_key);
  m.arguments = arguments;
  auto r = call<amqp::QueueUnbindOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Result<uint32_t> Channel::queue_delete(std::string_view name, bool if_unused, bool if_empty) {
  amqp::QueueDelete m;
  m.queue = std::string(name);
  m.if_unused = if_unused;
  m.if_empty = if_empty;
  auto r = call<amqp::QueueDeleteOk>(m);
  if (!r) return std::move(r).error();
  return r->message_count;
}

Result<uint32_t> Channel::queue_purge(std::string_view name) {
  amqp::QueuePurge m;
  m.queue = std::string(name);
  auto r = call<amqp::QueuePurgeOk>(m);
  if (!r) return std::move(r).error();
  return r->message_count;
}

Status Channel::qos(uint16_t prefetch_count, bool global, uint32_t prefetch_size) {
  amqp::BasicQos m;
  m.prefetch_count = prefetch_count;
  m.prefetch_size = prefetch_size;
  m.global = global;
  auto r = call<amqp::BasicQosOk>(m);
  return r ? Status() : Status(std::move(r).error());
}

Status Channel::confirm_select() {
  auto r = call<amqp::ConfirmSelectOk>(amqp::ConfirmSelect{});
  if (!r) return std::move(r).error();
  confirm_mode_ = true;
  return {};
}

Result<std::string> Channel::consume(std::string_view queue, DeliveryHandler handler,
                                     const ConsumeOptions& o) {
  amqp::BasicConsume m;
  m.queue = std::string(queue);
  m.consumer_tag = o.consumer_tag;
  m.no_local = o.no_local;
  m.no_ack = o.no_ack;
  m.exclusive = o.exclusive;
  m.arguments = o.arguments;
  // Deliveries may follow consume-ok in the same read: the handler is registered the moment
  // consume-ok is handled, not when this call returns.
  pending_handler_ = std::move(handler);
  auto r = call<amqp::BasicConsumeOk>(m);
  pending_handler_ = nullptr;
  if (!r) return std::move(r).error();
  return std::move(r->consumer_tag);
}

Status Channel::cancel(std::string_view consumer_tag) {
  amqp::BasicCancel m;
  m.consumer_tag = std::string(consumer_tag);
  auto r = call<amqp::BasicCancelOk>(m);
  consumers_.erase(m.consumer_tag);
  last_tag_ = nullptr;
  last_handler_ = nullptr;
  return r ? Status() : Status(std::move(r).error());
}

Result<std::optional<Message>> Channel::get(std::string_view queue, bool no_ack) {
  amqp::BasicGet m;
  m.queue = std::string(queue);
  m.no_ack = no_ack;
  got_.reset();
  // basic.get is answered by get-ok (with content) or get-empty.
  expect_alt_ = amqp::kMethodKey<amqp::BasicGetEmpty>;
  auto r = call<amqp::BasicGetOk>(m);
  if (r) {
    std::optional<Message> out = std::move(got_);
    got_.reset();
    return out;
  }
  if (reply_empty_) {
    reply_empty_ = false;
    return std::optional<Message>();
  }
  return std::move(r).error();
}

Status Channel::wait_for_confirms() {
  if (auto st = check_usable(); !st) return st;
  return conn_->wait_for([this] { return confirms_.outstanding() == 0 || state_ != State::kOpen; },
                         "publisher confirms");
}

void Channel::connection_lost(const Error& e) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (!error_) error_ = e;
  content_ = Content::kNone;
}

}  // namespace pulse::client
