#pragma once
// The broker's event loop: runs the io_context turn by turn and, while clients stream input
// faster than a turn takes, lets that input gather for a short window between turns.
//
// Why: on a busy loopback every small write a client makes wakes the broker, and every
// delivery the broker writes wakes the consumer; each wake-up costs both sides more than the
// message itself (measured with rabbitmq-c, one publish per call: a receiver that reads at
// once makes each publish cost the publisher 16-20 µs of CPU, one that reads every 200 µs
// 6.5 µs). Gathering turns the stream into one read and one write per window.
//
// When: only for input nobody waited for. A read counts as streamed when the broker wrote
// nothing to that connection since its previous read (a publisher without confirms, not a
// client waiting for a reply, a confirm or a delivery: those are never delayed), and only when
// such input came in two turns less than two windows apart (a lone message is handled at
// once; at 1k msg/s reads are 1 ms apart and never wait). The pause is bounded by the window, and
// a turn that already took longer, or read a large batch, does not pause at all.
#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "server/asio.h"

namespace pulse::server {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  // A window of 0 never pauses: each turn follows the previous one at once.
  EventLoop(boost::asio::io_context& io, std::chrono::microseconds window);

  // Runs handlers until the io_context is stopped or runs out of work, as io_context::run().
  void run();

  // Runs `fn` in the next turn, after the pause if there is one (a connection's read again).
  void next_turn(std::function<void()> fn) {
    // Held while something waits for the next turn: without it, a turn that left no other
    // work would stop the io_context (asio stops one that runs out of work).
    if (!pending_) pending_.emplace(io_.get_executor());
    next_turn_.push_back(std::move(fn));
  }

  // A read returned `bytes`; `streamed`: the broker had written nothing to that connection
  // since its previous read.
  void note_input(bool streamed, size_t bytes) {
    if (bytes >= kLargeRead) {
      large_read_this_turn_ = true;
    } else if (streamed) {
      streamed_this_turn_ = true;
    }
  }

  struct Stats {
    uint64_t turns = 0;
    uint64_t pauses = 0;
  };
  const Stats& stats() const { return stats_; }
  std::chrono::microseconds window() const { return window_; }

 private:
  // The most handlers one turn runs, so that a connection whose handlers keep posting more
  // work cannot keep the next turn (and the reads it holds) from starting.
  static constexpr int kMaxHandlersPerTurn = 4096;
  // A read this large is batched already: pausing would only let the socket's receive buffer
  // fill and stall the sender (1 KiB publishes from pulse-perf lost 20 %).
  static constexpr size_t kLargeRead = 16 * 1024;

  void end_turn(Clock::time_point start);

  boost::asio::io_context& io_;
  std::chrono::microseconds window_;
  std::vector<std::function<void()>> next_turn_, starting_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> pending_;
  bool streamed_this_turn_ = false;
  bool large_read_this_turn_ = false;
  std::optional<Clock::time_point> last_streamed_turn_;
  Stats stats_;
};

}  // namespace pulse::server
