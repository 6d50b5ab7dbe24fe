// Bytes captured from RabbitMQ 3.10.8's STOMP plugin (raw socket, CONNECT with accept-version
// 1.0,1.1,1.2 and heart-beat 1,999): the codec builds the same bytes and parses RabbitMQ's.
#include <gtest/gtest.h>

#include "stomp/destination.h"
#include "stomp/negotiation.h"
#include "stomp/serializer.h"
#include "stomp_test_util.h"

namespace pulse::stomp {
namespace {

using namespace std::string_literals;

const std::string kConnected =
    "CONNECTED\nserver:RabbitMQ/3.10.8\nsession:session-yMG6-VPQ_Ag-1bnav285Sg\n"
    "heart-beat:1000,1000\nversion:1.2\n\n\0\n"s;

std::string error_bytes(const StompError& e) {
  return serialize(make_error_frame(e.message, e.detail), Version::v1_2);
}

TEST(StompGolden, ConnectedFrame) {
  const std::string accept = "1.0,1.1,1.2";
  Frame f{"CONNECTED",
          {{"server", "RabbitMQ/3.10.8"},
           {"session", "session-yMG6-VPQ_Ag-1bnav285Sg"},
           {"heart-beat", negotiate_heart_beat(*parse_heart_beat("1,999")).heart_beat()},
           {"version", std::string(version_name(*negotiate_version(&accept)))}},
          ""};
  EXPECT_EQ(serialize(f, Version::v1_2), kConnected);
  // RabbitMQ then sends heart-beat EOLs; the LF after the NUL reads as one too.
  auto events = test::parse_events(kConnected + "\n\n\n", 1);
  ASSERT_EQ(test::frames_of(events).size(), 1u);
  EXPECT_EQ(test::frames_of(events)[0], f);
  EXPECT_EQ(test::heartbeats_of(events), 4u);
}

TEST(StompGolden, InvalidDestinationError) {
  EXPECT_EQ(error_bytes(parse_destination("/exchange").error()),
            "ERROR\nmessage:Invalid destination\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
            "content-length:39\n\n'' is not a valid exchange destination\n\0\n"s);
}

TEST(StompGolden, UnknownDestinationError) {
  EXPECT_EQ(error_bytes(parse_destination("/foo/bar").error()),
            "ERROR\nmessage:Unknown destination\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
            "content-length:135\n\n'/foo/bar' is not a valid destination.\nValid destination "
            "types are: /temp-queue, /exchange, /topic, /queue, /amq/queue, /reply-queue/.\n\0\n"s);
}

TEST(StompGolden, VersionMismatchError) {
  std::string bad = "2.0";
  EXPECT_EQ(error_bytes(negotiate_version(&bad).error()),
            "ERROR\nmessage:Version mismatch\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
            "content-length:35\n\nSupported versions are 1.0,1.1,1.2\n\0\n"s);
}

TEST(StompGolden, BadCommandError) {
  auto events = test::parse_events("FOO\n\n\0"s);
  ASSERT_EQ(events.back().type, ParseEvent::Type::error);
  EXPECT_EQ(error_bytes(events.back().error->error),
            "ERROR\nmessage:Bad command\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
            "content-length:34\n\nCould not interpret command \"FOO\"\n\0\n"s);
}

TEST(StompGolden, MessageWithEscapedHeader) {
  // SEND with header k:a\cb, delivered to a 1.2 subscriber.
  const std::string wire =
      "MESSAGE\nsubscription:1\ndestination:/queue/pq\n"
      "message-id:T_1@@session-T1hlg5bMutCpvoZlWJFcrA@@1\nredelivered:false\nk:a\\cb\n"
      "content-length:5\n\nhello\0\n"s;
  Frame f{"MESSAGE",
          {{"subscription", "1"},
           {"destination", "/queue/pq"},
           {"message-id", "T_1@@session-T1hlg5bMutCpvoZlWJFcrA@@1"},
           {"redelivered", "false"},
           {"k", "a:b"}},
          "hello"};
  EXPECT_EQ(serialize(f, Version::v1_2), wire);
  auto frames = test::frames_of(test::parse_events(wire, 0, {}, Version::v1_2));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(*frames[0].header("k"), "a:b");
  EXPECT_EQ(frames[0].body, "hello");
}

TEST(StompGolden, EmptyBodyMessageHasNoContentLength) {
  // A 1.0 session: RabbitMQ escapes the backslash all the same (Escaping::rabbitmq).
  const std::string wire =
      "MESSAGE\nsubscription:1\ndestination:/queue/pq\n"
      "message-id:T_1@@session-JfF1ld3YTkP-wEDEx27WwA@@1\nredelivered:false\nk:a\\\\b\n\n\0\n"s;
  Frame f{"MESSAGE",
          {{"subscription", "1"},
           {"destination", "/queue/pq"},
           {"message-id", "T_1@@session-JfF1ld3YTkP-wEDEx27WwA@@1"},
           {"redelivered", "false"},
           {"k", "a\\b"}},
          ""};
  EXPECT_EQ(serialize(f, Version::v1_0, {Escaping::rabbitmq, true}), wire);
}

}  // namespace
}  // namespace pulse::stomp
