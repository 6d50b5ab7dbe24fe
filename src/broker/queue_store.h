#pragma once
// Where queues put messages that do not stay in memory: the broker's side of message storage.
// The broker knows nothing of files; pulsed's app layer implements these over store::QueueLog
// and attaches a QueueStore to every durable queue (persistent messages survive restart) and,
// on demand, to any queue whose backlog outgrows its memory budget (paging).
//
// A stored message is either kept (persistent message in a durable queue: recovered after a
// restart) or paged only (recovery drops it). Everything runs on the broker event loop.
#include <cstdint>
#include <memory>
#include <optional>

#include "base/result.h"
#include "broker/message.h"

namespace pulse::broker {

class Queue;

struct StoredMessage {
  MessagePtr msg;
  std::optional<TimePoint> expires_at;
  bool delivered = false;  // handed to a consumer before a restart: redeliver with the flag
};

class QueueStore {
 public:
  virtual ~QueueStore() = default;
  // True when kept messages survive a restart (a durable queue's store).
  virtual bool durable() const = 0;
  // Writes the message; returns its store sequence number (> 0). An error means the message
  // is not stored (disk failure): the publisher must not get a positive confirm.
  virtual Result<uint64_t> append(const Message& msg, std::optional<TimePoint> expires_at,
                                  bool keep) = 0;
  virtual Result<StoredMessage> read(uint64_t seq) = 0;
  // First delivery of a kept message, so a restart redelivers it with the flag set.
  virtual void mark_delivered(uint64_t seq) = 0;
  // The message left the queue for good (acked, dropped, expired, dead-lettered).
  virtual void ack(uint64_t seq) = 0;
  // Every message is gone; frees the disk.
  virtual void purge() = 0;
  // The queue was deleted: removes its files. The store is unusable afterwards.
  virtual void destroy() = 0;
};

// Provided by the broker's owner; null in a broker without storage (unit tests), where queues
// never page and nothing is persisted.
class MessageStorage {
 public:
  virtual ~MessageStorage() = default;
  // A paging-only store for a queue that has none (non-durable queues). Null on failure: the
  // queue then keeps its backlog in memory.
  virtual std::unique_ptr<QueueStore> open_paging_store(Queue& q) = 0;
};

// Memory budgets past which queues page message bodies out to their store. Bytes count bodies
// plus an estimate of each in-memory message's bookkeeping (kMessageOverhead).
struct PagingLimits {
  uint64_t queue_bytes = 64ull << 20;
  uint64_t global_bytes = 512ull << 20;
};
inline constexpr size_t kMessageOverhead = 512;

}  // namespace pulse::broker
