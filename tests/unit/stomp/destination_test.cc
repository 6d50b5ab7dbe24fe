// RabbitMQ's destination grammar, including its error texts, and where a SEND is routed.
#include <gtest/gtest.h>

#include "stomp/destination.h"

namespace pulse::stomp {
namespace {

using K = DestinationKind;

TEST(StompDestination, Valid) {
  struct Row {
    const char* text;
    Destination expected;
  };
  for (const Row& r : std::vector<Row>{
           {"/exchange/amq.direct", {K::exchange, "amq.direct", std::nullopt}},
           {"/exchange/x/a.*.b", {K::exchange, "x", "a.*.b"}},
           {"/exchange/x/", {K::exchange, "x", ""}},
           {"/exchange/a%2Fb/c%2Fd", {K::exchange, "a/b", "c/d"}},
           {"/queue/q1", {K::queue, "q1", std::nullopt}},
           {"/queue/a%2Fb%2fc", {K::queue, "a/b%2fc", std::nullopt}},
           {"/queue/%2F", {K::queue, "/", std::nullopt}},
           {"/amq/queue/existing", {K::amq_queue, "existing", std::nullopt}},
           {"/topic/a.b.#", {K::topic, "a.b.#", std::nullopt}},
           {"/temp-queue/replies", {K::temp_queue, "replies", std::nullopt}},
           {"/reply-queue/amq.gen-abc", {K::reply_queue, "amq.gen-abc", std::nullopt}},
           {"/reply-queue/a/b%2Fc", {K::reply_queue, "a/b/c", std::nullopt}},
           {"/reply-queue//x", {K::reply_queue, "/x", std::nullopt}},
           {"plain", {K::queue, "plain", std::nullopt}},
           {"a%2Fb", {K::queue, "a/b", std::nullopt}},
       }) {
    auto d = parse_destination(r.text);
    ASSERT_TRUE(d.ok()) << r.text << ": " << d.error().detail;
    EXPECT_EQ(*d, r.expected) << r.text;
  }
}

TEST(StompDestination, InvalidAsRabbitMqWordsIt) {
  struct Row {
    const char* text;
    const char* detail;
  };
  for (const Row& r : std::vector<Row>{
           {"/exchange", "'' is not a valid exchange destination\n"},
           {"/exchange/", "'/' is not a valid exchange destination\n"},
           {"/exchange//x", "'//x' is not a valid exchange destination\n"},
           {"/exchange/x/y/z", "'/x/y/z' is not a valid exchange destination\n"},
           {"/queue", "'' is not a valid queue destination\n"},
           {"/queue/", "'/' is not a valid queue destination\n"},
           {"/queue/a/b", "'/a/b' is not a valid queue destination\n"},
           {"/amq/queue", "'' is not a valid amqqueue destination\n"},
           {"/amq/queue/a/b", "'/a/b' is not a valid amqqueue destination\n"},
           {"/topic/", "'/' is not a valid topic destination\n"},
           {"/topic/a/b", "'/a/b' is not a valid topic destination\n"},
           {"/temp-queue", "'' is not a valid temp_queue destination\n"},
           {"/temp-queue/a/b", "'/a/b' is not a valid temp_queue destination\n"},
           {"/reply-queue/", "'/' is not a valid reply_queue destination\n"},
           {"", "Destination cannot be blank"},
       }) {
    auto d = parse_destination(r.text);
    ASSERT_FALSE(d.ok()) << r.text;
    EXPECT_EQ(d.error().message, "Invalid destination") << r.text;
    EXPECT_EQ(d.error().detail, r.detail) << r.text;
  }
}

TEST(StompDestination, UnknownAsRabbitMqWordsIt) {
  for (const char* text :
       {"/", "/foo/bar", "/amq", "/amq/topic/x", "/reply-queue", "a/b", "/Queue/x", "//queue/x"}) {
    auto d = parse_destination(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.error().message, "Unknown destination") << text;
    EXPECT_EQ(d.error().detail, std::string("'") + text +
                                    "' is not a valid destination.\nValid destination types "
                                    "are: /temp-queue, /exchange, /topic, /queue, /amq/queue, "
                                    "/reply-queue/.\n");
  }
}

TEST(StompDestination, Routing) {
  auto route = [](const char* text) { return routing_of(*parse_destination(text)); };
  EXPECT_EQ(route("/exchange/x"), (Routing{"x", ""}));
  EXPECT_EQ(route("/exchange/x/k.1"), (Routing{"x", "k.1"}));
  EXPECT_EQ(route("/topic/k.1"), (Routing{"amq.topic", "k.1"}));
  EXPECT_EQ(route("/queue/q"), (Routing{"", "q"}));
  EXPECT_EQ(route("/amq/queue/q"), (Routing{"", "q"}));
  EXPECT_EQ(route("/reply-queue/r"), (Routing{"", "r"}));
  EXPECT_EQ(route("/temp-queue/t"), std::nullopt);
}

TEST(StompDestination, PercentDecodingIsOnlyUpperCase2F) {
  EXPECT_EQ(unescape_destination_segment("a%2Fb%2fc%20d%2"), "a/b%2fc%20d%2");
}

}  // namespace
}  // namespace pulse::stomp
