#include "broker/queue.h"

#include <algorithm>

#include "broker/broker.h"
#include "broker/vhost.h"

namespace pulse::broker {

namespace {
// TTLs come from clients (x-message-ttl, x-expires, expiration) and may be as large as
// INT64_MAX ms; converting that to the clock's nanoseconds would overflow, so deadlines
// saturate at the end of time instead.
TimePoint deadline_after(TimePoint from, int64_t ms) {
  if (ms <= 0) return from;
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(TimePoint::max() - from);
  if (ms >= room.count()) return TimePoint::max();
  return from + std::chrono::milliseconds(ms);
}
}  // namespace

const char* reason_name(DeadLetterReason r) {
  switch (r) {
    case DeadLetterReason::kRejected:
      return "rejected";
    case DeadLetterReason::kExpired:
      return "expired";
    case DeadLetterReason::kMaxLen:
      return "maxlen";
    case DeadLetterReason::kDeliveryLimit:
      return "delivery_limit";
  }
  return "rejected";
}

Queue::Queue(VHost& vhost, uint64_t id, std::string name, bool durable, bool exclusive,
             bool auto_delete, uint64_t owner, amqp::FieldTable arguments, QueueArgs args)
    : vhost_(vhost),
      id_(id),
      name_(std::move(name)),
      durable_(durable),
      exclusive_(exclusive),
      auto_delete_(auto_delete),
      owner_(owner),
      arguments_(std::move(arguments)),
      args_(std::move(args)),
      levels_(size_t{args_.max_priority} + 1),
      last_used_(Clock::now()) {}

Queue::~Queue() = default;

std::string Queue::describe() const {
  return "queue '" + name_ + "' in vhost '" + vhost_.name() + "'";
}

Queue::Level& Queue::level_for(uint8_t priority) {
  return levels_[std::min<size_t>(priority, levels_.size() - 1)];
}

QueuedMessage* Queue::peek_head() {
  for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {
    if (!it->mem.empty()) return &it->mem.front();
  }
  return nullptr;
}

QueuedMessage Queue::pop_head() {
  for (auto it = levels_.rbegin(); it != levels_.rend(); ++it) {
    if (!it->mem.empty()) return take_front(*it);
  }
  return {};
}

QueuedMessage Queue::take_front(Level& level) {
  QueuedMessage m = std::move(level.mem.front());
  level.mem.pop_front();
  --ready_count_;
  ready_bytes_ -= m.bytes();
  add_mem_bytes(-static_cast<int64_t>(m.bytes() + kMessageOverhead));
  if (level.mem.empty() && !level.paged.empty()) page_in(level);
  return m;
}

void Queue::push_mem(Level& level, QueuedMessage&& m, bool back) {
  ++ready_count_;
  ready_bytes_ += m.bytes();
  add_mem_bytes(static_cast<int64_t>(m.bytes() + kMessageOverhead));
  if (back) {
    level.mem.push_back(std::move(m));
    return;
  }
  // Requeued messages go back to where they were, not to the tail.
  auto pos = std::upper_bound(level.mem.begin(), level.mem.end(), m.seq,
                              [](uint64_t seq, const QueuedMessage& e) { return seq < e.seq; });
  level.mem.insert(pos, std::move(m));
}

bool Queue::over_limits(size_t extra_count, size_t extra_bytes) const {
  if (args_.max_length && ready_count_ + extra_count > static_cast<size_t>(*args_.max_length))
    return true;
  if (args_.max_length_bytes &&
      ready_bytes_ + extra_bytes > static_cast<size_t>(*args_.max_length_bytes))
    return true;
  return false;
}

void Queue::drop_head_for_limits() {
  while (ready_count_ > 0 && over_limits(0, 0)) {
    QueuedMessage m = pop_head();
    forget(m);
    dead_letter(std::move(m), DeadLetterReason::kMaxLen);
  }
}

EnqueueOutcome Queue::enqueue(MessagePtr msg) {
  if (deleted_) return EnqueueOutcome::kRejected;
  const size_t bytes = msg->body.size();
  if (args_.overflow != Overflow::kDropHead && over_limits(1, bytes)) {
    if (args_.overflow == Overflow::kRejectPublishDlx) {
      QueuedMessage m;
      m.msg = std::move(msg);
      dead_letter(std::move(m), DeadLetterReason::kMaxLen);
    }
    return EnqueueOutcome::kRejected;
  }
  QueuedMessage m;
  const TimePoint now = Clock::now();
  std::optional<int64_t> ttl = args_.message_ttl;
  if (auto e = msg->expiration_ms()) ttl = ttl ? std::min(*ttl, *e) : *e;
  if (ttl) m.expires_at = deadline_after(now, *ttl);
  m.seq = next_seq_++;
  Level& level = level_for(msg->priority());
  const bool keep = store_ && store_->durable() && msg->persistent();
  bool page = should_page(level, bytes);
  QueueStore* store = page ? paging_store() : keep ? store_.get() : nullptr;
  if (!store) page = false;
  if (store) {
    auto seq = store->append(*msg, m.expires_at, keep);
    if (!seq) {
      // A persistent message that could not be written must not be confirmed; a paged one
      // stays in memory instead.
      if (keep) return EnqueueOutcome::kRejected;
      page = false;
    } else {
      m.store_seq = *seq;
    }
  }
  const bool synced = keep && m.store_seq != 0;
  if (page) {
    page_out(level, m.store_seq, bytes);
  } else {
    m.msg = std::move(msg);
    push_mem(level, std::move(m));
  }
  ++counters_.publish;
  vhost_.count(&MessageCounters::queue_publish);
  if (args_.overflow == Overflow::kDropHead) drop_head_for_limits();
  dispatch_at(now);
  // A message whose TTL ran out while no consumer could take it goes now (TTL 0 semantics).
  if (ttl) {
    while (expire_head(now)) {
    }
    schedule_timer();
  }
  return synced ? EnqueueOutcome::kQueuedDurable : EnqueueOutcome::kQueued;
}

Consumer* Queue::next_consumer() {
  if (consumers_.empty()) return nullptr;
  if (args_.single_active_consumer) {
    if (!single_active_) single_active_ = consumers_.front().get();
    return single_active_->sink->can_take(*single_active_) ? single_active_ : nullptr;
  }
  const size_t n = consumers_.size();
  Consumer* best = nullptr;
  size_t best_index = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t idx = (rr_cursor_ + i) % n;
    Consumer* c = consumers_[idx].get();
    if ((!best || c->priority > best->priority) && c->sink->can_take(*c)) {
      best = c;
      best_index = idx;
    }
  }
  if (best) rr_cursor_ = best_index + 1;
  return best;
}

void Queue::dispatch_at(TimePoint now) {
  if (dispatching_ || deleted_) return;
  dispatching_ = true;
  bool delivered = false;
  while (ready_count_ > 0) {
    if (expire_head(now, false)) continue;
    Consumer* c = next_consumer();
    if (!c) break;
    QueuedMessage m = pop_head();
    delivered = true;
    ++c->delivered;
    ++(c->no_ack ? counters_.deliver_no_ack : counters_.deliver);
    vhost_.count(c->no_ack ? &MessageCounters::deliver_no_ack : &MessageCounters::deliver);
    if (m.redelivered) {
      ++counters_.redeliver;
      vhost_.count(&MessageCounters::redeliver);
    }
    if (!c->no_ack) {
      ++unacked_count_;
      unacked_bytes_ += m.bytes();
      note_delivered(m);
    } else {
      forget(m);
    }
    c->sink->deliver(*c, *this, std::move(m));
    if (deleted_) break;
  }
  dispatching_ = false;
  // A new head may carry a TTL: arm its deadline, as RabbitMQ does after every fetch.
  if (delivered) schedule_timer();
}

std::optional<QueuedMessage> Queue::get(bool no_ack) {
  touch();
  const TimePoint now = Clock::now();
  while (expire_head(now)) {
  }
  if (ready_count_ == 0) return std::nullopt;
  QueuedMessage m = pop_head();
  ++(no_ack ? counters_.get_no_ack : counters_.get);
  vhost_.count(no_ack ? &MessageCounters::get_no_ack : &MessageCounters::get);
  if (m.redelivered) {
    ++counters_.redeliver;
    vhost_.count(&MessageCounters::redeliver);
  }
  if (!no_ack) {
    ++unacked_count_;
    unacked_bytes_ += m.bytes();
    note_delivered(m);
  } else {
    forget(m);
  }
  schedule_timer();  // the new head may expire
  return m;
}

void Queue::unacked_done(const QueuedMessage& m) {
  if (unacked_count_ > 0) --unacked_count_;
  unacked_bytes_ -= std::min(unacked_bytes_, m.bytes());
}

void Queue::settle_acked(const QueuedMessage& m) {
  ++counters_.ack;
  vhost_.count(&MessageCounters::ack);
  unacked_done(m);
  forget(m);
}

void Queue::requeue(QueuedMessage&& m) {
  unacked_done(m);
  if (deleted_) return;
  m.redelivered = true;
  auto& level = level_for(m.msg->priority());
  if (args_.quorum) {
    ++m.delivery_count;
    if (args_.delivery_limit && m.delivery_count > *args_.delivery_limit) {
      forget(m);
      dead_letter(std::move(m), DeadLetterReason::kDeliveryLimit);
      return;
    }
    // Quorum queues return messages to the back and count deliveries in a header.
    auto copy = std::make_shared<Message>(*m.msg);
    amqp::BasicProperties props = copy->properties();
    if (!props.has(amqp::BasicProperties::kHeaders)) props.set_headers({});
    amqp::set(props.headers, "x-delivery-count", int64_t{m.delivery_count});
    copy->set_properties(std::move(props));
    m.msg = std::move(copy);
    if (!level.paged.empty()) {
      // Behind a paged tail the message must be paged too, to keep its place at the back.
      const bool keep = store_ && store_->durable() && m.msg->persistent();
      auto seq = paging_store()->append(*m.msg, m.expires_at, keep);
      if (seq) {
        forget(m);
        page_out(level, *seq, m.bytes());
        dispatch();
        return;
      }
    }
    push_mem(level, std::move(m));
    dispatch();
    return;
  }
  push_mem(level, std::move(m), /*back=*/false);
  dispatch();
}

void Queue::settle_rejected(QueuedMessage&& m) {
  unacked_done(m);
  forget(m);
  if (deleted_) return;
  dead_letter(std::move(m), DeadLetterReason::kRejected);
}

size_t Queue::purge() {
  size_t n = ready_count_;
  size_t paged = paged_count_;
  if (unacked_count_ > 0 || !store_) {
    for (auto& l : levels_)
      for (const auto& m : l.mem) forget(m);
  }
  purge_store(paged);
  for (auto& l : levels_) {
    l.mem.clear();
    l.paged.clear();
    l.paged_bytes = 0;
  }
  add_mem_bytes(-static_cast<int64_t>(mem_bytes_));
  ready_count_ = 0;
  ready_bytes_ = 0;
  paged_count_ = 0;
  return n;
}

void Queue::dead_letter(QueuedMessage&& m, DeadLetterReason reason) {
  if (!args_.dead_letter_exchange) return;
  vhost_.dead_letter(*this, std::move(m), reason);
}

bool Queue::expire_head(TimePoint now, bool inclusive) {
  // Messages expire only at the head of their level, as in RabbitMQ classic queues.
  for (auto& level : levels_) {
    if (level.mem.empty() || !level.mem.front().expires_at) continue;
    const TimePoint at = *level.mem.front().expires_at;
    if (inclusive ? at <= now : at < now) {
      QueuedMessage m = take_front(level);
      forget(m);
      dead_letter(std::move(m), DeadLetterReason::kExpired);
      return true;
    }
  }
  return false;
}

Consumer* Queue::add_consumer(std::unique_ptr<Consumer> c) {
  touch();
  ever_had_consumer_ = true;
  Consumer* raw = c.get();
  consumers_.push_back(std::move(c));
  dispatch();
  return raw;
}

bool Queue::remove_consumer(const Consumer* c) {
  auto it = std::find_if(consumers_.begin(), consumers_.end(),
                         [c](const auto& p) { return p.get() == c; });
  if (it == consumers_.end()) return false;
  size_t idx = static_cast<size_t>(it - consumers_.begin());
  if (single_active_ == c) single_active_ = nullptr;
  consumers_.erase(it);
  if (rr_cursor_ > idx) --rr_cursor_;
  touch();
  if (consumers_.empty()) {
    schedule_timer();
    return auto_delete_ && ever_had_consumer_;
  }
  // A new single active consumer may take over.
  dispatch();
  return false;
}

bool Queue::has_exclusive_consumer() const {
  return std::any_of(consumers_.begin(), consumers_.end(),
                     [](const auto& c) { return c->exclusive; });
}

Consumer* Queue::find_consumer(uint64_t connection_id, const std::string& tag) {
  for (auto& c : consumers_)
    if (c->connection_id == connection_id && c->tag == tag) return c.get();
  return nullptr;
}

void Queue::touch() {
  last_used_ = Clock::now();
}

std::optional<TimePoint> Queue::next_deadline() const {
  std::optional<TimePoint> d;
  for (const auto& level : levels_) {
    if (!level.mem.empty() && level.mem.front().expires_at) {
      if (!d || *level.mem.front().expires_at < *d) d = level.mem.front().expires_at;
    }
  }
  if (args_.expires && consumers_.empty()) {
    TimePoint e = deadline_after(last_used_, *args_.expires);
    if (!d || e < *d) d = e;
  }
  return d;
}

void Queue::schedule_timer() {
  if (deleted_) return;
  auto d = next_deadline();
  // One heap entry per queue at a time: re-arm only for an earlier deadline.
  if (d && (!armed_at_ || *d < *armed_at_)) {
    armed_at_ = *d;
    vhost_.schedule_queue_timer(*this, *d);
  }
}

void Queue::on_timer(TimePoint now) {
  armed_at_.reset();
  if (deleted_) return;
  while (expire_head(now)) {
  }
  if (args_.expires && consumers_.empty() && now >= deadline_after(last_used_, *args_.expires)) {
    vhost_.expire_queue(*this);
    return;
  }
  dispatch();
  schedule_timer();
}

void Queue::apply_policy(std::shared_ptr<const Policy> policy, QueueArgs effective) {
  policy_ = std::move(policy);
  const Overflow old_overflow = args_.overflow;
  args_ = std::move(effective);
  if (deleted_) return;
  // A classic queue restarts its x-expires countdown (init_exp); a quorum queue does not.
  if (!args_.quorum) touch();
  // RabbitMQ applies the new limits under the old overflow mode, then the new mode.
  if (old_overflow == Overflow::kDropHead || args_.overflow == Overflow::kDropHead)
    drop_head_for_limits();
  const TimePoint now = Clock::now();
  while (expire_head(now)) {
  }
  schedule_timer();
}

void Queue::mark_deleted() {
  deleted_ = true;
  auto consumers = std::move(consumers_);
  consumers_.clear();
  single_active_ = nullptr;
  for (auto& c : consumers) c->sink->cancelled_by_broker(*c);
  // At shutdown the queue is only going away in memory: its messages stay on disk.
  std::unique_ptr<QueueStore> store = std::move(store_);
  purge();
  if (store && !vhost_.broker().closing()) store->destroy();
}

}  // namespace pulse::broker
