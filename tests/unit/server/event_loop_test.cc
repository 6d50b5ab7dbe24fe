// EventLoop: which input it gathers (pauses between turns for) and which it never delays.
#include "server/event_loop.h"

#include <gtest/gtest.h>

#include <functional>

namespace pulse::server {
namespace {

namespace asio = boost::asio;
using std::chrono::microseconds;

constexpr microseconds kWindow{300};

// A connection's read chain as AmqpConnection runs it: each read notes its input and asks for
// the next read in the next turn, `reads` times.
struct Reader {
  EventLoop& loop;
  bool streamed;
  size_t bytes;
  int reads;
  int done = 0;
  void read() {
    loop.note_input(streamed, bytes);
    if (++done < reads) loop.next_turn([this] { read(); });
  }
};

TEST(EventLoopTest, RunsPostedWorkAndReturnsWhenNothingIsLeft) {
  asio::io_context io(1);
  EventLoop loop(io, kWindow);
  int ran = 0;
  asio::post(io, [&] {
    ++ran;
    loop.next_turn([&] { ++ran; });
  });
  loop.run();
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(loop.stats().pauses, 0u);
}

// One connection's chain of `reads` reads through a fresh loop.
struct Outcome {
  int done;
  uint64_t pauses;
  EventLoop::Clock::duration elapsed;
};

Outcome run_reads(bool streamed, size_t bytes, int reads) {
  asio::io_context io(1);
  EventLoop loop(io, kWindow);
  Reader r{loop, streamed, bytes, reads};
  asio::post(io, [&] { r.read(); });
  const auto t0 = EventLoop::Clock::now();
  loop.run();
  return {r.done, loop.stats().pauses, EventLoop::Clock::now() - t0};
}

TEST(EventLoopTest, ALoneStreamedReadIsNotDelayed) {
  const Outcome o = run_reads(true, 100, 1);
  EXPECT_EQ(o.done, 1);
  EXPECT_EQ(o.pauses, 0u);
}

TEST(EventLoopTest, ADenseStreamIsGatheredOneWindowPerTurn) {
  const Outcome o = run_reads(true, 100, 20);
  EXPECT_EQ(o.done, 20);
  // The first read has no earlier one to be dense with, and the last asks for no next turn;
  // a turn that was itself held up past the window (a busy machine) does not pause either.
  EXPECT_LE(o.pauses, 18u);
  EXPECT_GE(o.pauses, 12u);
  EXPECT_GE(o.elapsed, static_cast<int>(o.pauses) * kWindow);
}

TEST(EventLoopTest, InputThatMayAnswerOurWritesIsNeverDelayed) {
  const Outcome o = run_reads(false, 100, 20);  // a client waiting for replies or deliveries
  EXPECT_EQ(o.done, 20);
  EXPECT_EQ(o.pauses, 0u);
}

TEST(EventLoopTest, LargeReadsAreNotDelayed) {
  const Outcome o = run_reads(true, 64 * 1024, 20);
  EXPECT_EQ(o.done, 20);
  EXPECT_EQ(o.pauses, 0u);
}

TEST(EventLoopTest, AStreamDoesNotDelayTurnsOnceItStops) {
  asio::io_context io(1);
  EventLoop loop(io, kWindow);
  Reader stream{loop, true, 100, 5};
  Reader waiting{loop, false, 100, 50};
  asio::post(io, [&] { stream.read(); });
  asio::post(io, [&] { waiting.read(); });
  loop.run();
  // Only turns with streamed input pause: after the stream's 5 reads the other goes on at once.
  EXPECT_EQ(waiting.done, 50);
  EXPECT_LE(loop.stats().pauses, 4u);
}

TEST(EventLoopTest, HandlersThatKeepPostingDoNotStarveTheNextTurn) {
  asio::io_context io(1);
  EventLoop loop(io, kWindow);
  bool stop = false;
  std::function<void()> again = [&] {
    if (!stop) asio::post(io, again);
  };
  asio::post(io, [&] {
    again();
    loop.next_turn([&] { stop = true; });
  });
  loop.run();  // returns only if the next turn's handler ran
  EXPECT_TRUE(stop);
}

TEST(EventLoopTest, StopsWhenTheContextIsStopped) {
  asio::io_context io(1);
  EventLoop loop(io, kWindow);
  auto guard = asio::make_work_guard(io);  // would run for ever without the stop
  asio::post(io, [&] { io.stop(); });
  loop.run();
  EXPECT_TRUE(io.stopped());
}

}  // namespace
}  // namespace pulse::server
