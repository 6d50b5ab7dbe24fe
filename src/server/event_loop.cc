#include "server/event_loop.h"

#include <thread>

namespace pulse::server {

EventLoop::EventLoop(boost::asio::io_context& io, std::chrono::microseconds window)
    : io_(io), window_(window) {}

void EventLoop::run() {
  while (!io_.stopped()) {
    starting_.swap(next_turn_);
    for (auto& fn : starting_) boost::asio::post(io_, std::move(fn));
    starting_.clear();
    pending_.reset();                // the posted handlers are the io_context's work now
    if (io_.run_one() == 0) return;  // waits for work; 0: stopped, or nothing left to wait for
    const Clock::time_point start = Clock::now();
    for (int i = 1; i < kMaxHandlersPerTurn && io_.poll_one() > 0; ++i) {
    }
    end_turn(start);
  }
}

void EventLoop::end_turn(Clock::time_point start) {
  ++stats_.turns;
  const bool large = large_read_this_turn_;
  large_read_this_turn_ = false;
  if (!streamed_this_turn_) return;
  streamed_this_turn_ = false;
  // Twice the window: a turn that follows a pause starts a window after the previous one, and
  // must still count as dense for the stream to keep being gathered.
  const bool dense = last_streamed_turn_ && start - *last_streamed_turn_ < 2 * window_;
  last_streamed_turn_ = start;
  if (!dense || large || next_turn_.empty()) return;
  const Clock::time_point until = start + window_;
  if (Clock::now() >= until) return;
  ++stats_.pauses;
  std::this_thread::sleep_until(until);
}

}  // namespace pulse::server
