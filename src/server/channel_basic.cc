// basic.* methods other than delivery bookkeeping (see channel_delivery.cc).
#include "base/log.h"
#include "broker/operations.h"
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/frames_out.h"

namespace pulse::server {

namespace {
using broker::ops::kDirectReplyTo;

Error precondition(std::string text) {
  return Error{amqp::kPreconditionFailed, "PRECONDITION_FAILED - " + std::move(text)};
}
}  // namespace

Status Channel::on_basic(amqp::Method& m) {
  if (auto* q = std::get_if<amqp::BasicQos>(&m)) {
    if (q->prefetch_size != 0) {
      return Error{amqp::kNotImplemented,
                   "NOT_IMPLEMENTED - prefetch_size!=0 (" + std::to_string(q->prefetch_size) + ")"};
    }
    if (q->global) {
      prefetch_global_ = q->prefetch_count;
    } else {
      prefetch_per_consumer_ = q->prefetch_count;
    }
    reply(amqp::BasicQosOk{});
    resume_deliveries();
    return {};
  }
  if (auto* c = std::get_if<amqp::BasicConsume>(&m)) return consume(*c);
  if (auto* c = std::get_if<amqp::BasicCancel>(&m)) return cancel(c->consumer_tag, c->nowait, true);
  if (auto* g = std::get_if<amqp::BasicGet>(&m)) return get(*g);
  if (auto* a = std::get_if<amqp::BasicAck>(&m))
    return settle(a->delivery_tag, a->multiple, Settle::kAck);
  if (auto* n = std::get_if<amqp::BasicNack>(&m))
    return settle(n->delivery_tag, n->multiple, n->requeue ? Settle::kRequeue : Settle::kReject);
  if (auto* r = std::get_if<amqp::BasicReject>(&m))
    return settle(r->delivery_tag, false, r->requeue ? Settle::kRequeue : Settle::kReject);
  auto recover = [&](bool requeue) -> Status {
    if (!requeue) return Error{amqp::kNotImplemented, "NOT_IMPLEMENTED - requeue=false"};
    auto unacked = std::move(unacked_);
    unacked_.clear();
    for (auto& u : unacked) settle_one(std::move(u), Settle::kRequeue);
    return {};
  };
  if (auto* r = std::get_if<amqp::BasicRecoverAsync>(&m)) return recover(r->requeue);
  if (auto* r = std::get_if<amqp::BasicRecover>(&m)) {
    if (auto s = recover(r->requeue); !s) return s;
    reply(amqp::BasicRecoverOk{});
    return {};
  }
  return Error{amqp::kCommandInvalid, "COMMAND_INVALID - unimplemented method"};
}

Status Channel::consume(amqp::BasicConsume& m) {
  if (consumers_.count(m.consumer_tag) ||
      (!m.consumer_tag.empty() && m.consumer_tag == reply_consumer_tag_)) {
    return Error{amqp::kNotAllowed,
                 "NOT_ALLOWED - attempt to reuse consumer tag '" + m.consumer_tag + "'"};
  }
  if (m.queue == kDirectReplyTo) {
    if (!reply_token_.empty()) return precondition("reply consumer already set");
    if (!m.no_ack) return precondition("reply consumer cannot acknowledge");
    reply_consumer_tag_ =
        m.consumer_tag.empty() ? conn_.broker().generate_name("amq.ctag-") : m.consumer_tag;
    reply_token_ = conn_.broker().register_reply_sink(this);
    if (!m.nowait) {
      amqp::BasicConsumeOk ok;
      ok.consumer_tag = reply_consumer_tag_;
      reply(ok);
    }
    return {};
  }
  auto name = queue_name(m.queue);
  if (!name) return std::move(name).error();
  auto grant = broker::ops::check_consume(principal_, *name, m.exclusive, m.arguments);
  if (!grant) return std::move(grant).error();
  auto state = std::make_shared<ConsumerState>();
  state->tag = m.consumer_tag.empty() ? conn_.broker().generate_name("amq.ctag-") : m.consumer_tag;
  state->queue = grant->queue;
  state->prefetch = prefetch_per_consumer_;
  state->no_ack = m.no_ack;
  auto c = std::make_unique<broker::Consumer>();
  c->tag = state->tag;
  c->sink = this;
  c->connection_id = conn_.id();
  c->no_ack = m.no_ack;
  c->exclusive = m.exclusive;
  c->priority = grant->priority;
  c->arguments = m.arguments;
  c->opaque = state.get();
  consumers_[state->tag] = state;
  // consume-ok must precede the first delivery, so reply before attaching.
  if (!m.nowait) {
    amqp::BasicConsumeOk ok;
    ok.consumer_tag = state->tag;
    reply(ok);
  }
  state->consumer = grant->queue->add_consumer(std::move(c));
  return {};
}

Status Channel::cancel(const std::string& tag, bool nowait, bool from_client) {
  auto it = consumers_.find(tag);
  if (it == consumers_.end()) {
    if (!reply_token_.empty() && tag == reply_consumer_tag_) {
      conn_.broker().unregister_reply_sink(reply_token_);
      reply_token_.clear();
      reply_consumer_tag_.clear();
    }
  } else {
    auto state = it->second;
    consumers_.erase(it);
    if (state->consumer && state->queue && !state->queue->deleted()) {
      broker::Consumer* c = state->consumer;
      state->consumer = nullptr;
      if (state->queue->remove_consumer(c)) state->queue->vhost().remove_queue(*state->queue);
    }
  }
  if (from_client && !nowait) {
    amqp::BasicCancelOk ok;
    ok.consumer_tag = tag;
    reply(ok);
  }
  return {};
}

void Channel::complete_publish() {
  std::shared_ptr<broker::Message> shared = std::move(pending_msg_);
  broker::Message& msg = *shared;
  bool mandatory = pending_publish_.mandatory;
  bool immediate = pending_publish_.immediate;
  // Errors name basic.publish; the method value is only built when one happens.
  auto fail_publish = [this](const Error& e) { fail(e, amqp::Method{amqp::BasicPublish{}}); };
  if (immediate) {
    conn_.connection_error(amqp::kNotImplemented, "NOT_IMPLEMENTED - immediate=true", 60, 40);
    return;
  }
  if (confirm_mode_) ++publish_seq_;
  auto x = broker::ops::check_publish(principal_, msg, reply_token_);
  if (!x) {
    fail_publish(x.error());
    return;
  }
  if (tx_mode_) {
    tx_publishes_.emplace_back(std::move(shared), mandatory);
    return;
  }
  if (auto r = publish(shared, mandatory, *x); !r) fail_publish(r.error());
}

Status Channel::get(const amqp::BasicGet& g) {
  auto name = queue_name(g.queue);
  if (!name) return std::move(name).error();
  auto q = broker::ops::check_get(principal_, *name);
  if (!q) return std::move(q).error();
  auto msg = (*q)->get(g.no_ack);
  if (!msg) {
    conn_.vhost()->count(&broker::MessageCounters::get_empty);
    ++counters_.get_empty;
    reply(amqp::BasicGetEmpty{});
    return {};
  }
  const uint64_t tag = ++next_delivery_tag_;
  ++(g.no_ack ? counters_.get_no_ack : counters_.get);
  if (msg->redelivered) ++counters_.redeliver;
  append_basic_get_ok(conn_.out(), id_, tag, msg->redelivered, msg->msg->exchange,
                      msg->msg->routing_key, static_cast<uint32_t>((*q)->message_count()));
  append_content(conn_.output(), id_, msg->msg, conn_.frame_max());
  if (!g.no_ack) {
    unacked_.push_back(Unacked{tag, *q, std::move(*msg), nullptr, coarse_now_ms()});
    conn_.unacked_delivery(unacked_.back().delivered_ms);
  }
  return {};
}

Status Channel::publish(const std::shared_ptr<broker::Message>& shared, bool mandatory,
                        broker::Exchange* x) {
  broker::VHost& vh = *conn_.vhost();
  broker::Message& msg = *shared;
  vh.count(&broker::MessageCounters::publish);
  ++counters_.publish;
  // Direct reply-to: the key names the requesting channel, not a queue.
  if (msg.exchange.empty() && msg.routing_key.starts_with(kDirectReplyTo) &&
      msg.routing_key.size() > kDirectReplyTo.size() + 1) {
    auto* sink = conn_.broker().find_reply_sink(msg.routing_key.substr(kDirectReplyTo.size() + 1));
    if (sink) {
      sink->deliver_reply(shared);
      vh.count(&broker::MessageCounters::routed);
      ++counters_.routed;
      if (confirm_mode_) confirm(publish_seq_, true);
      return {};
    }
  }
  auto outcome = x != nullptr ? vh.publish(*x, shared) : vh.publish(shared);
  if (!outcome) return std::move(outcome).error();
  auto event = outcome->routed > 0 ? &broker::MessageCounters::routed
               : mandatory         ? &broker::MessageCounters::return_unroutable
                                   : &broker::MessageCounters::drop_unroutable;
  vh.count(event);
  ++(counters_.*event);
  if (outcome->routed == 0 && mandatory) {
    // publish() leaves an unroutable message untouched, so it can be returned as is.
    append_basic_return(conn_.out(), id_, amqp::kNoRoute, "NO_ROUTE", msg.exchange,
                        msg.routing_key);
    amqp::append_content(conn_.out(), id_, msg.raw_properties(), msg.body, conn_.frame_max());
  }
  publish_needs_sync_ = outcome->needs_sync;
  if (confirm_mode_) {
    const bool ack = !outcome->rejected;
    confirm(publish_seq_, ack,
            ack && outcome->needs_sync ? conn_.broker().durability().write_epoch() : 0);
  }
  return {};
}

}  // namespace pulse::server
