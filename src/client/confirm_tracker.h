#pragma once
// Which publish sequence numbers of a confirm-mode channel are still unconfirmed. Tags are
// consecutive from 1; acks may come out of order (single acks, then a multiple ack over them),
// so settled tags above the lowest open one are remembered in a ring of flags.
#include <cstdint>
#include <deque>

namespace pulse::client {

class ConfirmTracker {
 public:
  // Assigns the next sequence number.
  uint64_t add() {
    open_.push_back(0);
    ++outstanding_;
    return next_++;
  }
  uint64_t next() const { return next_; }
  uint64_t outstanding() const { return outstanding_; }

  // Settles `tag` (and everything below it when multiple) and calls fn(first, last) for every
  // contiguous run of newly settled tags, in ascending order. Unknown tags are ignored.
  template <typename Fn>
  void settle(uint64_t tag, bool multiple, Fn&& fn) {
    if (tag >= next_) tag = next_ - 1;  // a server bug must not make us loop for ever
    if (tag < base_) return;
    if (multiple) {
      uint64_t run_start = 0;
      for (uint64_t t = base_; t <= tag; ++t) {
        const bool was_open = open_[t - base_] == 0;
        if (was_open) {
          if (run_start == 0) run_start = t;
          open_[t - base_] = 1;
          --outstanding_;
        } else if (run_start != 0) {
          fn(run_start, t - 1);
          run_start = 0;
        }
      }
      if (run_start != 0) fn(run_start, tag);
    } else if (open_[tag - base_] == 0) {
      open_[tag - base_] = 1;
      --outstanding_;
      fn(tag, tag);
    }
    while (!open_.empty() && open_.front() != 0) {
      open_.pop_front();
      ++base_;
    }
  }

 private:
  uint64_t base_ = 1;  // lowest tag still tracked in open_
  uint64_t next_ = 1;
  uint64_t outstanding_ = 0;
  std::deque<uint8_t> open_;  // 0 = awaiting a confirm, 1 = settled; index tag - base_
};

}  // namespace pulse::client
