// Deliveries to consumers, prefetch windows, and settlement (ack / nack / reject).
#include "server/amqp_connection.h"
#include "server/channel.h"
#include "server/frames_out.h"

namespace pulse::server {

bool Channel::can_take(const broker::Consumer& c) const {
  if (state_ != State::kOpen || conn_.closing()) return false;
  auto* st = static_cast<const ConsumerState*>(c.opaque);
  if (!c.no_ack) {
    if (st->prefetch != 0 && st->unacked >= st->prefetch) return false;
    if (prefetch_global_ != 0 && unacked_with_limit_ >= prefetch_global_) return false;
  }
  return !conn_.output_congested();
}

void Channel::deliver(broker::Consumer& c, broker::Queue& q, broker::QueuedMessage&& m) {
  auto* st = static_cast<ConsumerState*>(c.opaque);
  const uint64_t tag = ++next_delivery_tag_;
  const broker::Message& msg = *m.msg;
  ++(c.no_ack ? counters_.deliver_no_ack : counters_.deliver);
  if (m.redelivered) ++counters_.redeliver;
  const size_t before = conn_.output().size();
  append_basic_deliver(conn_.out(), id_, c.tag, tag, m.redelivered, msg.exchange, msg.routing_key);
  append_content(conn_.output(), id_, m.msg, conn_.frame_max());
  if (!c.no_ack) conn_.delivery_appended(before);
  conn_.schedule_flush();
  if (!c.no_ack) {
    ++st->unacked;
    ++unacked_with_limit_;
    auto it = consumers_.find(c.tag);
    std::shared_ptr<ConsumerState> owner = it != consumers_.end() ? it->second : nullptr;
    unacked_.push_back(
        Unacked{tag, q.shared_from_this(), std::move(m), std::move(owner), coarse_now_ms()});
    conn_.unacked_delivery(unacked_.back().delivered_ms);
  }
}

void Channel::deliver_reply(broker::MessagePtr msg) {
  const uint64_t tag = ++next_delivery_tag_;
  append_basic_deliver(conn_.out(), id_, reply_consumer_tag_, tag, false, msg->exchange,
                       msg->routing_key);
  append_content(conn_.output(), id_, msg, conn_.frame_max());
  conn_.schedule_flush();
}

void Channel::cancelled_by_broker(broker::Consumer& c) {
  auto it = consumers_.find(c.tag);
  if (it == consumers_.end()) return;
  it->second->consumer = nullptr;
  consumers_.erase(it);
  if (conn_.cancel_notify() && state_ == State::kOpen) {
    amqp::BasicCancel cancel;
    cancel.consumer_tag = c.tag;
    cancel.nowait = true;
    reply(cancel);
    conn_.schedule_flush();
  }
}

void Channel::resume_deliveries() {
  // Distinct queues this channel consumes from get a chance to dispatch again.
  std::vector<broker::Queue*> queues;
  for (auto& [tag, st] : consumers_) {
    if (st->queue && std::find(queues.begin(), queues.end(), st->queue.get()) == queues.end())
      queues.push_back(st->queue.get());
  }
  for (auto* q : queues) q->dispatch();
}

void Channel::settle_one(Unacked&& u, Settle how) {
  if (u.consumer) {
    if (u.consumer->unacked > 0) --u.consumer->unacked;
  }
  if (u.consumer && unacked_with_limit_ > 0) --unacked_with_limit_;
  switch (how) {
    case Settle::kAck:
      ++counters_.ack;
      u.queue->settle_acked(u.message);
      break;
    case Settle::kRequeue:
      u.queue->requeue(std::move(u.message));
      break;
    case Settle::kReject:
      u.queue->settle_rejected(std::move(u.message));
      break;
  }
}

Status Channel::settle(uint64_t tag, bool multiple, Settle how) {
  std::vector<Unacked> taken;
  if (multiple && tag == 0) {
    for (auto& u : unacked_) taken.push_back(std::move(u));
    unacked_.clear();
  } else {
    // unacked_ is ordered by tag.
    auto it = std::lower_bound(unacked_.begin(), unacked_.end(), tag,
                               [](const Unacked& u, uint64_t t) { return u.tag < t; });
    if (it == unacked_.end() || it->tag != tag) {
      return Error{amqp::kPreconditionFailed,
                   "PRECONDITION_FAILED - unknown delivery tag " + std::to_string(tag)};
    }
    auto first = multiple ? unacked_.begin() : it;
    for (auto i = first; i != it + 1; ++i) taken.push_back(std::move(*i));
    unacked_.erase(first, it + 1);
  }
  if (tx_mode_) {
    for (auto& u : taken) tx_settles_.emplace_back(std::move(u), how);
    return {};
  }
  for (auto& u : taken) settle_one(std::move(u), how);
  conn_.note_settled(taken.size());
  // Freed prefetch credit lets queues deliver more.
  resume_deliveries();
  return {};
}

}  // namespace pulse::server
