#pragma once
// A classic queue: ready messages (one FIFO per priority level), consumers with priorities and
// round-robin, single-active-consumer, limits with overflow policy, TTLs and dead lettering.
// Runs on the broker event loop only.
//
// Storage: a durable queue has a QueueStore where persistent messages are written at enqueue
// (and acked when they leave). Past the memory budgets (PagingLimits) new messages go to the
// store only (paged): each priority level is an in-memory head followed by a paged tail of
// store sequence runs, read back in batches as the head drains. Invariant: a level's head is
// empty only when its tail is, so the next message (and its TTL) is always in memory.
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/field_table.h"
#include "base/recycling_allocator.h"
#include "broker/consumer.h"
#include "broker/message.h"
#include "broker/queue_args.h"
#include "broker/queue_store.h"

namespace pulse::broker {

class VHost;
class Policy;

// kQueuedDurable: written to a durable store, so a publisher confirm waits for the next sync.
enum class EnqueueOutcome { kQueued, kQueuedDurable, kRejected };

enum class DeadLetterReason { kRejected, kExpired, kMaxLen, kDeliveryLimit };
const char* reason_name(DeadLetterReason r);

// Monotonic counts for the management API's message_stats (rates come from periodic samples
// taken by the http layer). Plain increments on paths that already touch the queue.
struct QueueCounters {
  uint64_t publish = 0;         // messages enqueued
  uint64_t deliver = 0;         // to consumers with ack required
  uint64_t deliver_no_ack = 0;  // to no-ack consumers
  uint64_t get = 0;             // basic.get with ack required
  uint64_t get_no_ack = 0;
  uint64_t ack = 0;
  uint64_t redeliver = 0;  // deliveries and gets of redelivered messages
};

class Queue : public std::enable_shared_from_this<Queue> {
 public:
  Queue(VHost& vhost, uint64_t id, std::string name, bool durable, bool exclusive, bool auto_delete,
        uint64_t owner, amqp::FieldTable arguments, QueueArgs args);
  ~Queue();

  uint64_t id() const { return id_; }
  // Set by routing to deduplicate destinations of one publish without a set.
  uint64_t route_mark = 0;
  const std::string& name() const { return name_; }
  VHost& vhost() { return vhost_; }
  bool durable() const { return durable_; }
  bool exclusive() const { return exclusive_; }
  bool auto_delete() const { return auto_delete_; }
  uint64_t exclusive_owner() const { return owner_; }
  // The x-arguments as declared; args() are the effective ones (declared combined with the
  // policy in force, see policy.h).
  const amqp::FieldTable& arguments() const { return arguments_; }
  const QueueArgs& args() const { return args_; }
  const std::shared_ptr<const Policy>& policy() const { return policy_; }
  // Swaps in the policy in force (null: none) and the effective arguments it yields, and
  // enforces them at once as RabbitMQ's process_args_policy does: heads over a lowered limit
  // are dropped (dead-lettered), expired heads go, timers are re-armed. Queued messages keep
  // the TTL they were given; new ones get the new one.
  void apply_policy(std::shared_ptr<const Policy> policy, QueueArgs effective);
  bool deleted() const { return deleted_; }
  std::string describe() const;  // "queue 'q' in vhost '/'"

  size_t message_count() const { return ready_count_; }
  size_t paged_count() const { return paged_count_; }
  size_t memory_bytes() const { return mem_bytes_; }
  size_t ready_bytes() const { return ready_bytes_; }
  size_t unacked_bytes() const { return unacked_bytes_; }
  size_t unacked_count() const { return unacked_count_; }
  size_t consumer_count() const { return consumers_.size(); }
  const std::vector<std::unique_ptr<Consumer>>& consumers() const { return consumers_; }
  // With x-single-active-consumer, the consumer that receives (the others wait); else null.
  const Consumer* single_active_consumer() const { return single_active_; }
  const QueueCounters& counters() const { return counters_; }
  // Last declare, consume or get (x-expires activity), for idle_since.
  TimePoint last_used() const { return last_used_; }

  // Adds a routed message. kRejected when x-overflow=reject-publish(-dlx) refused it.
  EnqueueOutcome enqueue(MessagePtr msg);
  // Hands ready messages to consumers that can take them.
  void dispatch() { dispatch_at(Clock::now()); }
  // Messages expiring exactly at `now` (TTL 0) may still go to a waiting consumer.
  void dispatch_at(TimePoint now);
  // basic.get: the head message, or nullopt. With no_ack the queue forgets it.
  std::optional<QueuedMessage> get(bool no_ack);

  // Settlement of a message previously delivered with ack required.
  void settle_acked(const QueuedMessage& m);
  void requeue(QueuedMessage&& m);
  // nack/reject without requeue: dead-lettered when a DLX is set, else dropped.
  void settle_rejected(QueuedMessage&& m);

  size_t purge();

  Consumer* add_consumer(std::unique_ptr<Consumer> c);
  // Removes the consumer; returns true if the queue should now auto-delete.
  bool remove_consumer(const Consumer* c);
  bool has_exclusive_consumer() const;
  Consumer* find_consumer(uint64_t connection_id, const std::string& tag);

  // Expires head messages, checks x-expires and re-arms the timer. Called by the broker
  // only for the deadline the queue armed last (stale heap entries are skipped).
  void on_timer(TimePoint now);
  bool timer_armed_at(TimePoint when) const { return armed_at_ && *armed_at_ == when; }
  std::optional<TimePoint> next_deadline() const;
  // Marks activity for x-expires (declare, consume, get).
  void touch();
  // Arms the broker timer for the next TTL / x-expires deadline, if any.
  void schedule_timer();

  // Called by the vhost when the queue is deleted: cancels consumers, drops messages and
  // (unless the broker is shutting down) the store's files.
  void mark_deleted();

  // Storage (queue_paging.cc). attach_store() gives a durable queue its store; recovery then
  // feeds the messages found on disk in order and calls finish_recovery().
  void attach_store(std::unique_ptr<QueueStore> store) { store_ = std::move(store); }
  QueueStore* store() const { return store_.get(); }
  void recover_message(uint64_t store_seq, uint8_t priority, uint32_t body_bytes);
  void finish_recovery();

 private:
  struct PagedRun {
    uint64_t first;  // store sequence numbers first .. first + count - 1
    uint64_t count;
  };
  struct Level {
    std::deque<QueuedMessage, RecyclingAllocator<QueuedMessage>> mem;  // in queue order
    std::deque<PagedRun> paged;                                        // after mem, in queue order
    uint64_t paged_bytes = 0;
  };

  Level& level_for(uint8_t priority);
  QueuedMessage* peek_head();
  QueuedMessage pop_head();
  // Removes a level's first message, keeping the accounting and the head invariant.
  QueuedMessage take_front(Level& level);
  void push_mem(Level& level, QueuedMessage&& m, bool back = true);
  void add_mem_bytes(int64_t delta);
  // Paging (queue_paging.cc).
  bool should_page(const Level& level, size_t bytes) const;
  QueueStore* paging_store();
  void page_out(Level& level, uint64_t store_seq, size_t bytes);
  void page_in(Level& level);
  // The message left the queue for good: its store copy goes too.
  void forget(const QueuedMessage& m);
  // A delivery that needs an ack: remember it on disk for the redelivered flag.
  void note_delivered(const QueuedMessage& m);
  void unacked_done(const QueuedMessage& m);
  void purge_store(size_t paged_dropped);
  void drop_head_for_limits();
  bool over_limits(size_t extra_count, size_t extra_bytes) const;
  void dead_letter(QueuedMessage&& m, DeadLetterReason reason);
  // Dead-letters one expired head message. `inclusive`: a deadline equal to now has passed.
  bool expire_head(TimePoint now, bool inclusive = true);
  Consumer* next_consumer();

  VHost& vhost_;
  uint64_t id_;
  std::string name_;
  bool durable_, exclusive_, auto_delete_;
  uint64_t owner_;
  amqp::FieldTable arguments_;
  QueueArgs args_;
  std::shared_ptr<const Policy> policy_;
  bool deleted_ = false;

  std::vector<Level> levels_;  // index = priority level
  std::unique_ptr<QueueStore> store_;
  size_t ready_count_ = 0;  // memory and paged
  size_t paged_count_ = 0;
  size_t mem_bytes_ = 0;  // in-memory ready messages, with kMessageOverhead each
  size_t ready_bytes_ = 0;
  size_t unacked_count_ = 0;
  size_t unacked_bytes_ = 0;
  uint64_t next_seq_ = 1;

  std::vector<std::unique_ptr<Consumer>> consumers_;
  QueueCounters counters_;
  size_t rr_cursor_ = 0;
  Consumer* single_active_ = nullptr;
  bool ever_had_consumer_ = false;
  bool dispatching_ = false;
  TimePoint last_used_;
  std::optional<TimePoint> armed_at_;
};

using QueuePtr = std::shared_ptr<Queue>;

}  // namespace pulse::broker
