// Queue storage: writing persistent messages, paging past the memory budgets, recovery.
#include "base/log.h"
#include "broker/broker.h"
#include "broker/queue.h"
#include "broker/vhost.h"

namespace pulse::broker {
namespace {
// Messages read back per page-in: enough to keep consumers busy between reads, small enough
// that a page-in never costs the event loop more than a millisecond or two.
constexpr size_t kPageInMessages = 512;
constexpr size_t kPageInBytes = 4u << 20;
}  // namespace

void Queue::add_mem_bytes(int64_t delta) {
  mem_bytes_ = static_cast<size_t>(static_cast<int64_t>(mem_bytes_) + delta);
  vhost_.broker().add_queued_memory(delta);
}

bool Queue::should_page(const Level& level, size_t bytes) const {
  // The head stays in memory; behind a paged tail everything is paged, to keep the order.
  if (level.mem.empty()) return false;
  if (!level.paged.empty()) return true;
  const Broker& b = vhost_.broker();
  if (!b.message_storage() && !store_) return false;
  const PagingLimits& l = b.paging_limits();
  const size_t cost = bytes + kMessageOverhead;
  return mem_bytes_ + cost > l.queue_bytes || b.queued_memory() + cost > l.global_bytes;
}

QueueStore* Queue::paging_store() {
  if (!store_) {
    if (MessageStorage* s = vhost_.broker().message_storage()) store_ = s->open_paging_store(*this);
  }
  return store_.get();
}

void Queue::page_out(Level& level, uint64_t store_seq, size_t bytes) {
  if (!level.paged.empty() && level.paged.back().first + level.paged.back().count == store_seq) {
    ++level.paged.back().count;
  } else {
    level.paged.push_back(PagedRun{store_seq, 1});
  }
  level.paged_bytes += bytes;
  ++paged_count_;
  ++ready_count_;
  ready_bytes_ += bytes;
}

void Queue::page_in(Level& level) {
  size_t loaded = 0, bytes = 0;
  while (!level.paged.empty() && loaded < kPageInMessages && bytes < kPageInBytes) {
    PagedRun& run = level.paged.front();
    const uint64_t seq = run.first++;
    if (--run.count == 0) level.paged.pop_front();
    --paged_count_;
    --ready_count_;
    auto r = store_ ? store_->read(seq) : Result<StoredMessage>(Error{0, "no store"});
    if (!r) {
      // Damage the checksum caught, or an I/O error: the message is lost, the queue goes on.
      spdlog::error("{}: message {} could not be read back and is dropped: {}", describe(), seq,
                    r.error().text);
      if (store_) store_->ack(seq);
      continue;
    }
    QueuedMessage m;
    m.msg = std::move(r->msg);
    m.expires_at = r->expires_at;
    m.redelivered = r->delivered;
    m.store_seq = seq;
    m.seq = next_seq_++;
    const size_t n = m.bytes();
    level.paged_bytes -= std::min<uint64_t>(level.paged_bytes, n);
    ready_bytes_ -= std::min(ready_bytes_, n);
    bytes += n;
    ++loaded;
    push_mem(level, std::move(m));
  }
  if (level.paged.empty() && level.paged_bytes) {
    // Messages that could not be read took their (unknown) sizes with them.
    ready_bytes_ -= std::min<size_t>(ready_bytes_, level.paged_bytes);
    level.paged_bytes = 0;
  }
}

void Queue::forget(const QueuedMessage& m) {
  if (m.store_seq && store_) store_->ack(m.store_seq);
}

void Queue::note_delivered(const QueuedMessage& m) {
  if (m.store_seq && store_ && store_->durable() && m.msg->persistent())
    store_->mark_delivered(m.store_seq);
}

void Queue::purge_store(size_t paged_dropped) {
  if (!store_) return;
  if (unacked_count_ == 0) {
    store_->purge();
    return;
  }
  // Unacked deliveries keep their records (a crash must redeliver them): drop the rest one by
  // one.
  if (paged_dropped == 0) return;
  for (auto& level : levels_)
    for (const auto& run : level.paged)
      for (uint64_t s = run.first; s < run.first + run.count; ++s) store_->ack(s);
}

void Queue::recover_message(uint64_t store_seq, uint8_t priority, uint32_t body_bytes) {
  page_out(level_for(priority), store_seq, body_bytes);
}

void Queue::finish_recovery() {
  for (auto& level : levels_)
    if (level.mem.empty() && !level.paged.empty()) page_in(level);
  schedule_timer();
}

}  // namespace pulse::broker
