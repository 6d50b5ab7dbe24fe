// Channel methods, deliveries, publishing and confirms against scripted broker bytes.
#include <gtest/gtest.h>

#include "client/channel.h"
#include "script_peer.h"

namespace pulse::client {
namespace {

QueueOptions passive_queue() {
  QueueOptions o;
  o.passive = true;
  return o;
}

using std::chrono::milliseconds;
using testing::Frame;
using testing::ScriptPeer;

struct ChannelTest : ::testing::Test {
  void SetUp() override {
    conn = testing::open_scripted(peer, options, frame_max);
    ASSERT_TRUE(conn);
    ch = testing::open_scripted_channel(peer, *conn);
    ASSERT_TRUE(ch);
  }
  void deliver(const std::string& tag, uint64_t delivery_tag, const std::string& body,
               bool redelivered = false, amqp::BasicProperties props = {}) {
    amqp::BasicDeliver d;
    d.consumer_tag = tag;
    d.delivery_tag = delivery_tag;
    d.redelivered = redelivered;
    d.exchange = "ex";
    d.routing_key = "rk";
    peer.send_method(1, d);
    peer.send_content(1, props, body, frame_max);
  }
  std::string consume(std::vector<std::string>* bodies) {
    amqp::BasicConsumeOk ok;
    ok.consumer_tag = "amq.ctag-1";
    peer.send_method(1, ok);
    auto tag = ch->consume("q", [bodies](const Delivery& d) { bodies->emplace_back(d.body); });
    EXPECT_TRUE(tag.ok());
    peer.read_frames();
    return tag.ok() ? *tag : "";
  }

  ScriptPeer peer;
  ConnectionOptions options;
  uint32_t frame_max = 4096;
  std::unique_ptr<Connection> conn;
  Channel* ch = nullptr;
};

TEST_F(ChannelTest, QueueDeclareReturnsTheServersAnswer) {
  amqp::QueueDeclareOk ok;
  ok.queue = "amq.gen-abc";
  ok.message_count = 7;
  ok.consumer_count = 2;
  peer.send_method(1, ok);
  QueueOptions qo;
  qo.durable = true;
  qo.arguments = {{"x-max-length", int64_t{10}}};
  auto r = ch->queue_declare("", qo);
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->name, "amq.gen-abc");
  EXPECT_EQ(r->message_count, 7u);
  EXPECT_EQ(r->consumer_count, 2u);
  auto sent = peer.expect_method<amqp::QueueDeclare>(1);
  EXPECT_TRUE(sent.durable);
  EXPECT_EQ(sent.arguments, qo.arguments);
}

TEST_F(ChannelTest, ChannelCloseFromServerIsTheCallsError) {
  amqp::ChannelClose close;
  close.reply_code = 404;
  close.reply_text = "NOT_FOUND - no queue 'nope' in vhost '/'";
  close.class_id = 50;
  close.method_id = 10;
  peer.send_method(1, close);
  auto r = ch->queue_declare("nope", passive_queue());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 404);
  EXPECT_EQ(r.error().text, close.reply_text);
  EXPECT_EQ(r.error().class_id, 50);
  EXPECT_EQ(r.error().method_id, 10);
  EXPECT_FALSE(ch->is_open());
  peer.expect_method<amqp::ChannelCloseOk>(1);
  // Later calls keep failing with the same error; the connection is fine.
  auto p = ch->publish("", "q", "x");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, 404);
  EXPECT_TRUE(conn->is_open());
  EXPECT_TRUE(ch->close().ok());  // frees it
  // The id is free again.
  Channel* again = testing::open_scripted_channel(peer, *conn, 1);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->id(), 1);
}

TEST_F(ChannelTest, CloseWaitsForCloseOk) {
  peer.send_method(1, amqp::ChannelCloseOk{});
  EXPECT_TRUE(ch->close().ok());
  auto c = peer.expect_method<amqp::ChannelClose>(1);
  EXPECT_EQ(c.reply_code, 200);
}

TEST_F(ChannelTest, DeliveriesInOneReadReachTheHandler) {
  std::vector<std::string> bodies;
  // consume-ok and the first deliveries arrive together: none may be lost.
  amqp::BasicConsumeOk ok;
  ok.consumer_tag = "amq.ctag-1";
  peer.send_method(1, ok);
  deliver("amq.ctag-1", 1, "first");
  deliver("amq.ctag-1", 2, "second", true);
  std::vector<uint64_t> tags;
  std::vector<bool> redelivered;
  auto tag = ch->consume("q", [&](const Delivery& d) {
    bodies.emplace_back(d.body);
    tags.push_back(d.delivery_tag);
    redelivered.push_back(d.redelivered);
    EXPECT_EQ(d.exchange, "ex");
    EXPECT_EQ(d.routing_key, "rk");
    EXPECT_EQ(d.consumer_tag, "amq.ctag-1");
    EXPECT_EQ(d.channel, ch);
  });
  ASSERT_TRUE(tag.ok()) << tag.error().text;
  EXPECT_EQ(*tag, "amq.ctag-1");
  while (bodies.size() < 2 && conn->pump(milliseconds(200)).ok()) {
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(tags, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(redelivered, (std::vector<bool>{false, true}));
}

TEST_F(ChannelTest, BodiesSplitAcrossFramesAndReads) {
  std::vector<std::string> bodies;
  consume(&bodies);
  std::string big(10000, 'x');  // three body frames at frame_max 4096
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  amqp::BasicDeliver d;
  d.consumer_tag = "amq.ctag-1";
  d.delivery_tag = 1;
  std::string bytes;
  amqp::append_method_frame(bytes, 1, d);
  amqp::append_content(bytes, 1, amqp::BasicProperties{}, big, frame_max);
  // Byte by byte in a few pieces: every split point of frames must work.
  const size_t cuts[] = {3, 20, 50, 4100, 9000, bytes.size()};
  size_t from = 0;
  for (size_t cut : cuts) {
    peer.send_raw(bytes.substr(from, cut - from));
    from = cut;
    ASSERT_TRUE(conn->pump(milliseconds(200)).ok());
  }
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], big);
}

TEST_F(ChannelTest, EmptyBodyAndProperties) {
  std::vector<std::string> seen;
  amqp::BasicConsumeOk ok;
  ok.consumer_tag = "t";
  peer.send_method(1, ok);
  auto tag = ch->consume("q", [&](const Delivery& d) {
    seen.push_back(std::string(d.body) + "|" + d.properties->content_type + "|" +
                   std::to_string(d.properties->delivery_mode));
    EXPECT_EQ(d.properties->has(amqp::BasicProperties::kDeliveryMode),
              d.properties->delivery_mode != 0);
  });
  ASSERT_TRUE(tag.ok());
  amqp::BasicProperties props;
  props.set_content_type("text/plain");
  props.set_delivery_mode(2);
  deliver("t", 1, "", false, props);
  deliver("t", 2, "plain");  // no properties: nothing may leak from the previous message
  while (seen.size() < 2 && conn->pump(milliseconds(200)).ok()) {
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"|text/plain|2", "plain||0"}));
}

TEST_F(ChannelTest, PublishesAreBatchedIntoFewWrites) {
  const uint64_t writes_before = conn->stats().writes;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(ch->publish("amq.direct", "rk", "message " + std::to_string(i)).ok());
  }
  EXPECT_EQ(conn->stats().writes, writes_before);  // still buffered
  ASSERT_TRUE(conn->flush().ok());
  EXPECT_EQ(conn->stats().writes, writes_before + 1);
  auto frames = peer.read_frames();
  ASSERT_EQ(frames.size(), 300u);
  for (int i = 0; i < 100; ++i) {
    const Frame& m = frames[3 * i];
    auto pub = amqp::decode_method(
        std::span(reinterpret_cast<const uint8_t*>(m.payload.data()), m.payload.size()));
    ASSERT_TRUE(pub.ok());
    auto& p = std::get<amqp::BasicPublish>(*pub);
    EXPECT_EQ(p.exchange, "amq.direct");
    EXPECT_EQ(p.routing_key, "rk");
    EXPECT_EQ(frames[3 * i + 1].type, amqp::kFrameHeader);
    EXPECT_EQ(frames[3 * i + 2].payload, "message " + std::to_string(i));
  }
}

TEST_F(ChannelTest, LargeBodySplitAtFrameMaxAndPropertiesEncoded) {
  std::string body(10000, 'b');
  amqp::BasicProperties props;
  props.set_delivery_mode(2);
  props.set_message_id("m1");
  ASSERT_TRUE(ch->publish("", "q", body, props, true).ok());
  ASSERT_TRUE(conn->flush().ok());
  auto frames = peer.read_frames();
  ASSERT_EQ(frames.size(), 5u);  // method, header, 3 bodies
  auto pub = amqp::decode_method(std::span(
      reinterpret_cast<const uint8_t*>(frames[0].payload.data()), frames[0].payload.size()));
  EXPECT_TRUE(std::get<amqp::BasicPublish>(*pub).mandatory);
  amqp::ContentHeader h;
  ASSERT_TRUE(amqp::decode_content_header(
      std::span(reinterpret_cast<const uint8_t*>(frames[1].payload.data()),
                frames[1].payload.size()),
      h));
  EXPECT_EQ(h.body_size, 10000u);
  EXPECT_EQ(h.properties.delivery_mode, 2);
  EXPECT_EQ(h.properties.message_id, "m1");
  std::string joined;
  for (int i = 2; i < 5; ++i) {
    EXPECT_LE(frames[i].payload.size() + 8, frame_max);
    joined += frames[i].payload;
  }
  EXPECT_EQ(joined, body);
}

TEST_F(ChannelTest, AutoFlushWhenTheBatchIsFull) {
  const uint64_t writes_before = conn->stats().writes;
  std::string body(1000, 'z');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(ch->publish("", "q", body).ok());  // ~208 KB
  const uint64_t writes = conn->stats().writes - writes_before;
  EXPECT_GE(writes, 2u);
  EXPECT_LE(writes, 4u);  // 64 KiB batches
}

TEST_F(ChannelTest, AckNackRejectEncoding) {
  ASSERT_TRUE(ch->ack(5, true).ok());
  ASSERT_TRUE(ch->nack(6, false, false).ok());
  ASSERT_TRUE(ch->reject(7, true).ok());
  ASSERT_TRUE(conn->flush().ok());
  auto a = peer.expect_method<amqp::BasicAck>(1);
  EXPECT_EQ(a.delivery_tag, 5u);
  EXPECT_TRUE(a.multiple);
  // expect_method consumed all frames read so far; re-encode to compare the rest byte-exact.
  ASSERT_TRUE(ch->nack(6, false, false).ok());
  ASSERT_TRUE(ch->reject(7, true).ok());
  ASSERT_TRUE(conn->flush().ok());
  auto frames = peer.read_frames();
  ASSERT_EQ(frames.size(), 2u);
  auto n = amqp::decode_method(std::span(reinterpret_cast<const uint8_t*>(frames[0].payload.data()),
                                         frames[0].payload.size()));
  auto& nack = std::get<amqp::BasicNack>(*n);
  EXPECT_EQ(nack.delivery_tag, 6u);
  EXPECT_FALSE(nack.multiple);
  EXPECT_FALSE(nack.requeue);
  auto r = amqp::decode_method(std::span(reinterpret_cast<const uint8_t*>(frames[1].payload.data()),
                                         frames[1].payload.size()));
  EXPECT_TRUE(std::get<amqp::BasicReject>(*r).requeue);
}

TEST_F(ChannelTest, ConfirmsSettleRunsInOrder) {
  peer.send_method(1, amqp::ConfirmSelectOk{});
  ASSERT_TRUE(ch->confirm_select().ok());
  for (uint64_t i = 1; i <= 6; ++i) {
    auto seq = ch->publish("", "q", "m");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, i);
  }
  EXPECT_EQ(ch->unconfirmed(), 6u);
  std::vector<std::tuple<uint64_t, uint64_t, bool>> runs;
  ch->on_confirm([&](uint64_t a, uint64_t b, bool ack) { runs.emplace_back(a, b, ack); });
  auto ack = [&](uint64_t tag, bool multiple) {
    amqp::BasicAck a;
    a.delivery_tag = tag;
    a.multiple = multiple;
    peer.send_method(1, a);
  };
  ack(2, false);
  ack(4, true);  // settles 1 and 3-4, not 2 again
  amqp::BasicNack n;
  n.delivery_tag = 5;
  peer.send_method(1, n);
  ack(6, true);
  ASSERT_TRUE(ch->wait_for_confirms().ok());
  using R = std::tuple<uint64_t, uint64_t, bool>;
  EXPECT_EQ(runs, (std::vector<R>{R{2, 2, true}, R{1, 1, true}, R{3, 4, true}, R{5, 5, false},
                                  R{6, 6, true}}));
  EXPECT_EQ(ch->unconfirmed(), 0u);
}

TEST_F(ChannelTest, GetOkAndGetEmpty) {
  amqp::BasicGetOk ok;
  ok.delivery_tag = 9;
  ok.exchange = "amq.direct";
  ok.routing_key = "k";
  ok.message_count = 3;
  peer.send_method(1, ok);
  peer.send_content(1, {}, "payload");
  auto m = ch->get("q");
  ASSERT_TRUE(m.ok()) << m.error().text;
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->body, "payload");
  EXPECT_EQ((*m)->delivery_tag, 9u);
  EXPECT_EQ((*m)->message_count, 3u);
  EXPECT_EQ((*m)->routing_key, "k");
  peer.send_method(1, amqp::BasicGetEmpty{});
  auto e = ch->get("q");
  ASSERT_TRUE(e.ok()) << e.error().text;
  EXPECT_FALSE(e->has_value());
}

TEST_F(ChannelTest, ReturnsAndServerCancel) {
  std::vector<std::string> returned, cancelled;
  ch->on_return([&](const Returned& r) {
    returned.push_back(std::to_string(r.reply_code) + " " + std::string(r.reply_text) + " " +
                       std::string(r.body));
  });
  ch->on_cancel([&](std::string_view tag) { cancelled.emplace_back(tag); });
  std::vector<std::string> bodies;
  const std::string tag = consume(&bodies);
  amqp::BasicReturn ret;
  ret.reply_code = 312;
  ret.reply_text = "NO_ROUTE";
  peer.send_method(1, ret);
  peer.send_content(1, {}, "lost");
  amqp::BasicCancel cancel;
  cancel.consumer_tag = tag;
  cancel.nowait = true;
  peer.send_method(1, cancel);
  deliver(tag, 1, "after cancel");  // dropped: the consumer is gone
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(conn->pump(milliseconds(50)).ok());
  EXPECT_EQ(returned, (std::vector<std::string>{"312 NO_ROUTE lost"}));
  EXPECT_EQ(cancelled, (std::vector<std::string>{tag}));
  EXPECT_TRUE(bodies.empty());
}

TEST_F(ChannelTest, HandlersMayAckButNotCallSynchronousMethods) {
  bool declare_ok = true, pump_ok = true;
  amqp::BasicConsumeOk ok;
  ok.consumer_tag = "t";
  peer.send_method(1, ok);
  int n = 0;
  auto tag = ch->consume("q", [&](const Delivery& d) {
    ++n;
    EXPECT_TRUE(d.channel->ack(d.delivery_tag).ok());
    declare_ok = d.channel->queue_declare("x").ok();
    pump_ok = conn->pump(milliseconds(0)).ok();
  });
  ASSERT_TRUE(tag.ok());
  deliver("t", 1, "a");
  while (n == 0 && conn->pump(milliseconds(200)).ok()) {
  }
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(declare_ok);
  EXPECT_FALSE(pump_ok);
  auto a = peer.expect_method<amqp::BasicAck>(1);  // flushed after the handler returned
  EXPECT_EQ(a.delivery_tag, 1u);
}

TEST_F(ChannelTest, ContentWithoutMethodIsAProtocolError) {
  peer.send_content(1, {}, "stray");
  Status st = conn->pump(milliseconds(200));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, amqp::kUnexpectedFrame);
  auto close = peer.expect_method<amqp::ConnectionClose>(0);
  EXPECT_EQ(close.reply_code, amqp::kUnexpectedFrame);
}

// basic.deliver and confirms are decoded in place (amqp::decode_method_args), as strictly as
// the generic decoder: a truncated method or trailing bytes close the connection.
struct MalformedTest : ChannelTest {
  void check(bool confirm, bool truncated) {
    std::string payload;
    ByteWriter w(payload);
    if (confirm) {
      amqp::encode_method(w, amqp::BasicAck{});
    } else {
      amqp::BasicDeliver d;
      d.consumer_tag = "amq.ctag-1";
      amqp::encode_method(w, d);
    }
    if (truncated) {
      payload.pop_back();
    } else {
      payload.push_back('x');
    }
    std::string frame;
    ByteWriter f(frame);
    f.u8(amqp::kFrameMethod);
    f.u16(1);
    f.u32(static_cast<uint32_t>(payload.size()));
    f.bytes(payload);
    f.u8(amqp::kFrameEnd);
    peer.send_raw(frame);
    Status st = conn->pump(milliseconds(200));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, amqp::kSyntaxError);
    const std::string text =
        confirm ? "SYNTAX_ERROR - malformed confirm" : "SYNTAX_ERROR - malformed basic.deliver";
    EXPECT_EQ(st.error().text, "protocol error by the server: " + text);
    auto close = peer.expect_method<amqp::ConnectionClose>(0);
    EXPECT_EQ(close.reply_code, amqp::kSyntaxError);
    EXPECT_EQ(close.reply_text, text);
  }
};

TEST_F(MalformedTest, TruncatedDeliver) {
  check(false, true);
}
TEST_F(MalformedTest, DeliverWithTrailingBytes) {
  check(false, false);
}
TEST_F(MalformedTest, TruncatedConfirm) {
  check(true, true);
}
TEST_F(MalformedTest, ConfirmWithTrailingBytes) {
  check(true, false);
}

}  // namespace
}  // namespace pulse::client
