// Connection handshake, close and heartbeats against scripted broker bytes.
#include <gtest/gtest.h>

#include <thread>

#include "client/channel.h"
#include "client/options.h"
#include "script_peer.h"

namespace pulse::client {
namespace {

using std::chrono::milliseconds;
using testing::ScriptPeer;

TEST(Handshake, NegotiatesAndSendsPlainCredentials) {
  ScriptPeer peer;
  peer.script_handshake(/*channel_max=*/0, /*frame_max=*/65536, /*heartbeat=*/30);
  ConnectionOptions o;
  o.user = "alice";
  o.password = "s3cret";
  o.vhost = "pulse-test";
  o.connection_name = "unit";
  auto c = Connection::open_on(peer.take_client_socket(), o);
  ASSERT_TRUE(c.ok()) << c.error().text;
  EXPECT_TRUE((*c)->is_open());
  EXPECT_EQ((*c)->channel_max(), 2047);  // server says "no limit", ours applies
  EXPECT_EQ((*c)->frame_max(), 65536u);  // the smaller limit wins
  EXPECT_EQ((*c)->heartbeat(), 30);      // not set by us: the server's offer

  auto start_ok = peer.expect_method<amqp::ConnectionStartOk>(0);
  EXPECT_EQ(start_ok.mechanism, "PLAIN");
  EXPECT_EQ(start_ok.response, std::string("\0alice\0s3cret", 13));
  auto* caps = amqp::find(start_ok.client_properties, "capabilities");
  ASSERT_NE(caps, nullptr);
  for (const char* cap : {"publisher_confirms", "basic.nack", "consumer_cancel_notify",
                          "connection.blocked", "authentication_failure_close"}) {
    auto* v = amqp::find(*caps->as_table(), cap);
    ASSERT_NE(v, nullptr) << cap;
    EXPECT_TRUE(*v->as_bool()) << cap;
  }
  auto* name = amqp::find(start_ok.client_properties, "connection_name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(*name->as_string(), "unit");
}

TEST(Handshake, TuneOkAndOpenCarryTheNegotiatedValues) {
  ScriptPeer peer;
  peer.script_handshake(100, 131072, 60);
  ConnectionOptions o;
  o.heartbeat = 0;  // explicitly off
  o.frame_max = 0;  // take the server's
  auto c = Connection::open_on(peer.take_client_socket(), o);
  ASSERT_TRUE(c.ok()) << c.error().text;
  auto frames = peer.read_frames();
  std::vector<amqp::Method> methods;
  for (auto& f : frames) {
    auto m = amqp::decode_method(
        std::span(reinterpret_cast<const uint8_t*>(f.payload.data()), f.payload.size()));
    ASSERT_TRUE(m.ok());
    methods.push_back(*m);
  }
  ASSERT_EQ(methods.size(), 3u);
  auto& tune_ok = std::get<amqp::ConnectionTuneOk>(methods[1]);
  EXPECT_EQ(tune_ok.channel_max, 100);
  EXPECT_EQ(tune_ok.frame_max, 131072u);
  EXPECT_EQ(tune_ok.heartbeat, 0);
  EXPECT_EQ(std::get<amqp::ConnectionOpen>(methods[2]).virtual_host, "/");
  EXPECT_EQ((*c)->heartbeat(), 0);
}

TEST(Handshake, RefusedLoginSurfacesCodeAndText) {
  ScriptPeer peer;
  amqp::ConnectionStart start;
  start.version_minor = 9;
  start.mechanisms = "PLAIN";
  peer.send_method(0, start);
  amqp::ConnectionClose close;
  close.reply_code = 403;
  close.reply_text =
      "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see "
      "the broker logfile.";
  peer.send_method(0, close);
  auto c = Connection::open_on(peer.take_client_socket(), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, 403);
  EXPECT_EQ(c.error().text, close.reply_text);
  peer.expect_method<amqp::ConnectionCloseOk>(0);
}

TEST(Handshake, ServerHangingUpIsAnError) {
  ScriptPeer peer;
  amqp::ConnectionStart start;
  start.version_minor = 9;
  start.mechanisms = "PLAIN";
  peer.send_method(0, start);
  peer.close();
  auto c = Connection::open_on(peer.take_client_socket(), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().text.find("during the handshake"), std::string::npos) << c.error().text;
}

TEST(Handshake, ProtocolHeaderReplyMeansUnsupportedVersion) {
  ScriptPeer peer;
  peer.send_raw(std::string("AMQP\x00\x00\x09\x01", 8));
  auto c = Connection::open_on(peer.take_client_socket(), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().text.find("protocol header"), std::string::npos) << c.error().text;
}

TEST(Handshake, ExternalSendsAnEmptyResponse) {
  ScriptPeer peer;
  peer.script_handshake(0, 131072, 0, "PLAIN AMQPLAIN EXTERNAL");
  auto o = parse_uri("amqps://ignored:ignored@h?auth_mechanism=external");
  ASSERT_TRUE(o.ok()) << o.error().text;
  auto c = Connection::open_on(peer.take_client_socket(), *o);
  ASSERT_TRUE(c.ok()) << c.error().text;
  auto start_ok = peer.expect_method<amqp::ConnectionStartOk>(0);
  EXPECT_EQ(start_ok.mechanism, "EXTERNAL");
  EXPECT_EQ(start_ok.response, "");  // the identity is the TLS client certificate
}

TEST(Handshake, ExternalNotOffered) {
  ScriptPeer peer;
  peer.script_handshake();
  ConnectionOptions o;
  o.auth_mechanism = AuthMechanism::kExternal;
  auto c = Connection::open_on(peer.take_client_socket(), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().text,
            "server does not offer the EXTERNAL mechanism (offers 'AMQPLAIN PLAIN')");
}

TEST(Handshake, NoPlainMechanism) {
  ScriptPeer peer;
  amqp::ConnectionStart start;
  start.version_minor = 9;
  start.mechanisms = "EXTERNAL";
  peer.send_method(0, start);
  auto c = Connection::open_on(peer.take_client_socket(), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().text.find("PLAIN"), std::string::npos);
}

TEST(Connection, ServerCloseFailsPumpWithItsReply) {
  ScriptPeer peer;
  auto c = testing::open_scripted(peer);
  ASSERT_TRUE(c);
  Channel* ch = testing::open_scripted_channel(peer, *c);
  ASSERT_TRUE(ch);
  amqp::ConnectionClose close;
  close.reply_code = 320;
  close.reply_text = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'";
  peer.send_method(0, close);
  Status st = c->pump(milliseconds(500));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 320);
  EXPECT_EQ(st.error().text, close.reply_text);
  EXPECT_FALSE(c->is_open());
  ASSERT_NE(c->error(), nullptr);
  peer.expect_method<amqp::ConnectionCloseOk>(0);
  // The channel reports the connection's error too.
  auto r = ch->queue_declare("q");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 320);
}

TEST(Connection, CloseSendsCloseAndWaitsForCloseOk) {
  ScriptPeer peer;
  auto c = testing::open_scripted(peer);
  ASSERT_TRUE(c);
  peer.send_method(0, amqp::ConnectionCloseOk{});
  ASSERT_TRUE(c->close().ok());
  auto close = peer.expect_method<amqp::ConnectionClose>(0);
  EXPECT_EQ(close.reply_code, 200);
  EXPECT_FALSE(c->is_open());
  EXPECT_EQ(c->error(), nullptr);
  EXPECT_FALSE(c->open_channel().ok());
}

TEST(Connection, BlockedAndUnblocked) {
  ScriptPeer peer;
  auto c = testing::open_scripted(peer);
  ASSERT_TRUE(c);
  std::vector<std::pair<bool, std::string>> events;
  c->on_blocked([&](bool b, std::string_view why) { events.emplace_back(b, std::string(why)); });
  amqp::ConnectionBlocked blocked;
  blocked.reason = "low on memory";
  peer.send_method(0, blocked);
  ASSERT_TRUE(c->pump(milliseconds(500)).ok());
  EXPECT_TRUE(c->blocked());
  EXPECT_EQ(c->blocked_reason(), "low on memory");
  peer.send_method(0, amqp::ConnectionUnblocked{});
  ASSERT_TRUE(c->pump(milliseconds(500)).ok());
  EXPECT_FALSE(c->blocked());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], std::make_pair(true, std::string("low on memory")));
  EXPECT_EQ(events[1], std::make_pair(false, std::string()));
}

TEST(Heartbeat, SentWhenIdleAndServerSilenceDetected) {
  ScriptPeer peer;
  auto c = testing::open_scripted(peer, {}, 131072, /*heartbeat=*/1);
  ASSERT_TRUE(c);
  // Half the interval without output: a heartbeat goes out.
  ASSERT_TRUE(c->pump(milliseconds(700)).ok());
  auto frames = peer.read_frames();
  bool beat = false;
  for (auto& f : frames) beat = beat || (f.type == amqp::kFrameHeartbeat && f.channel == 0);
  EXPECT_TRUE(beat);
  // Two intervals without anything from the server: the connection is declared dead.
  Status st;
  const auto t0 = std::chrono::steady_clock::now();
  while (st.ok() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    st = c->pump(milliseconds(200));
  }
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().text.find("missed heartbeats"), std::string::npos) << st.error().text;
}

TEST(Heartbeat, ServerHeartbeatsKeepTheConnectionAlive) {
  ScriptPeer peer;
  auto c = testing::open_scripted(peer, {}, 131072, /*heartbeat=*/1);
  ASSERT_TRUE(c);
  std::string beat;
  amqp::append_heartbeat(beat);
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2600)) {
    peer.send_raw(beat);
    ASSERT_TRUE(c->pump(milliseconds(300)).ok());
    std::this_thread::sleep_for(milliseconds(300));
  }
  EXPECT_TRUE(c->is_open());
}

TEST(Heartbeat, SentByABusyReceiverThatNeverWrites) {
  ScriptPeer peer;
  auto c = testing::open_scripted(peer, {}, 131072, /*heartbeat=*/1);
  ASSERT_TRUE(c);
  Channel* ch = testing::open_scripted_channel(peer, *c);
  ASSERT_TRUE(ch);
  amqp::BasicConsumeOk ok;
  ok.consumer_tag = "t";
  peer.send_method(1, ok);
  int received = 0;
  ConsumeOptions co;
  co.no_ack = true;
  ASSERT_TRUE(ch->consume(
                    "q", [&](const Delivery&) { ++received; }, co)
                  .ok());
  peer.read_frames();
  amqp::BasicDeliver d;
  d.consumer_tag = "t";
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < milliseconds(1500)) {
    d.delivery_tag++;
    peer.send_method(1, d);
    peer.send_content(1, {}, "m");
    ASSERT_TRUE(c->pump(milliseconds(100)).ok());
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GT(received, 5);
  bool beat = false;
  for (auto& f : peer.read_frames()) beat = beat || f.type == amqp::kFrameHeartbeat;
  EXPECT_TRUE(beat);
}

}  // namespace
}  // namespace pulse::client
