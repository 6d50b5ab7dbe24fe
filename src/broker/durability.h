#pragma once
// Publisher confirms for persistent messages wait for fdatasync. Writes are grouped in epochs:
// every store write lands in the current write epoch; the storage owner seals the epoch when it
// flushes and syncs it, and reports completion. A channel notes the write epoch when it routes a
// persistent message to a durable queue and confirms once that epoch is synced, so one
// fdatasync confirms every publish of its epoch (group commit). Event loop only.
#include <cstdint>
#include <functional>
#include <vector>

namespace pulse::broker {

class SyncWaiter {
 public:
  virtual ~SyncWaiter() = default;
  // Epochs up to `epoch` are now durable (ok) or failed to sync (!ok).
  virtual void on_synced(uint64_t epoch, bool ok) = 0;
};

class Durability {
 public:
  // The epoch that writes made now belong to.
  uint64_t write_epoch() const { return write_epoch_; }
  uint64_t synced_epoch() const { return synced_epoch_; }
  // Waiters are told about every completion until they remove themselves.
  void add_waiter(SyncWaiter* w);
  void remove_waiter(SyncWaiter* w);

  // Storage owner side: seal() closes the write epoch and returns it (later writes go to the
  // next one); completed() reports it synced. Completions arrive in seal order.
  uint64_t seal() { return write_epoch_++; }
  void completed(uint64_t epoch, bool ok);

 private:
  uint64_t write_epoch_ = 1;
  uint64_t synced_epoch_ = 0;
  std::vector<SyncWaiter*> waiters_;
};

}  // namespace pulse::broker
