#include "broker/durability.h"

#include <algorithm>

namespace pulse::broker {

void Durability::add_waiter(SyncWaiter* w) {
  if (std::find(waiters_.begin(), waiters_.end(), w) == waiters_.end()) waiters_.push_back(w);
}

void Durability::remove_waiter(SyncWaiter* w) {
  std::erase(waiters_, w);
}

void Durability::completed(uint64_t epoch, bool ok) {
  if (ok) synced_epoch_ = std::max(synced_epoch_, epoch);
  // Waiters may remove themselves (or others) while being told.
  auto snapshot = waiters_;
  for (SyncWaiter* w : snapshot) {
    if (std::find(waiters_.begin(), waiters_.end(), w) != waiters_.end()) w->on_synced(epoch, ok);
  }
}

}  // namespace pulse::broker
