#include "server/output_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "amqp/frame.h"
#include "server/frames_out.h"

namespace pulse::server {
namespace {

std::string gather(OutputQueue& q) {
  std::string all;
  for (const auto& b : q.buffers()) all.append(static_cast<const char*>(b.data()), b.size());
  return all;
}

broker::MessagePtr message(size_t body_size) {
  auto m = std::make_shared<broker::Message>();
  m->body.assign(body_size, '\0');
  for (size_t i = 0; i < body_size; ++i) m->body[i] = static_cast<char>('a' + i % 26);
  amqp::BasicProperties p;
  p.set_delivery_mode(2);
  p.set_content_type("text/plain");
  m->set_properties(p);
  return m;
}

TEST(OutputQueue, KeepsBytesAndSharedPiecesInOrder) {
  OutputQueue q;
  auto owner = std::make_shared<std::string>("SHARED");
  q.bytes() += "head-";
  q.append_shared(owner, *owner);
  q.bytes() += "-tail";
  EXPECT_FALSE(q.contiguous());
  EXPECT_EQ(q.size(), 16u);
  EXPECT_EQ(gather(q), "head-SHARED-tail");
  // The queue holds the owner until cleared.
  EXPECT_EQ(owner.use_count(), 2);
  q.clear(1 << 20);
  EXPECT_EQ(owner.use_count(), 1);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.contiguous());
}

TEST(OutputQueue, SwapMovesEverything) {
  OutputQueue a, b;
  auto owner = std::make_shared<std::string>("xyz");
  a.bytes() += "1";
  a.append_shared(owner, *owner);
  a.swap(b);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(gather(b), "1xyz");
  a.bytes() += "2";
  EXPECT_EQ(gather(a), "2");
}

// A large body goes out by reference, yet the bytes on the wire are exactly those of the copying
// writer, for bodies split into several frames and with a partial last frame.
TEST(OutputQueue, SharedBodiesEncodeLikeCopiedOnes) {
  for (size_t size : {size_t{0}, size_t{100}, OutputQueue::kShareMin - 1, OutputQueue::kShareMin,
                      size_t{131072}, size_t{300000}}) {
    for (uint32_t frame_max : {4096u, 131072u}) {
      auto m = message(size);
      std::string expected = "prefix";
      amqp::append_content(expected, 7, m->raw_properties(), m->body, frame_max);
      OutputQueue q;
      q.bytes() += "prefix";
      append_content(q, 7, m, frame_max);
      EXPECT_EQ(q.size(), expected.size()) << size << " " << frame_max;
      EXPECT_EQ(gather(q), expected) << size << " " << frame_max;
      EXPECT_EQ(q.contiguous(), size < OutputQueue::kShareMin) << size;
    }
  }
}

}  // namespace
}  // namespace pulse::server
