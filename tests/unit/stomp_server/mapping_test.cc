#include "stomp_server/mapping.h"

#include <gtest/gtest.h>

namespace pulse::stomp_server {
namespace {

stomp::Frame send_frame(std::vector<stomp::Header> headers) {
  stomp::Frame f;
  f.command = "SEND";
  f.headers = std::move(headers);
  return f;
}

TEST(StompMapping, SubscriptionQueueNameIsRabbitMqs) {
  // erlang:md5(term_to_binary({"/topic/a", "x"})) in base64url, computed by Erlang/OTP.
  EXPECT_EQ(subscription_queue_name("/topic/a", "x"), "stomp-subscription-1fAfcK3PNfzeGrxNZZ-3Gg");
  EXPECT_NE(subscription_queue_name("", "x"), subscription_queue_name("x", ""));
  EXPECT_TRUE(random_subscription_queue_name().starts_with("stomp-subscription-"));
}

TEST(StompMapping, MessagePropertiesFromSendHeaders) {
  auto p = message_properties(send_frame({{"destination", "/queue/q"},
                                          {"content-type", "text/plain"},
                                          {"x-a", "1"},
                                          {"persistent", "true"},
                                          {"priority", " 4 "},
                                          {"x-a", "dup"},
                                          {"reply-to", "/temp-queue/t"},
                                          {"x-b", "2"}}));
  EXPECT_EQ(p.content_type, "text/plain");
  EXPECT_EQ(p.delivery_mode, 2);
  EXPECT_EQ(p.priority, 4);
  EXPECT_EQ(p.reply_to, "/temp-queue/t");
  // First occurrence wins, listed last-first; destination and property headers stay out.
  ASSERT_EQ(p.headers.size(), 2u);
  EXPECT_EQ(p.headers[0].first, "x-b");
  EXPECT_EQ(p.headers[1].first, "x-a");
  EXPECT_EQ(*p.headers[1].second.as_string(), "1");
  EXPECT_FALSE(message_properties(send_frame({{"persistent", "yes"}}))
                   .has(amqp::BasicProperties::kDeliveryMode));
}

TEST(StompMapping, MessageHeadersInRabbitMqsOrder) {
  amqp::BasicProperties p;
  p.flags = amqp::BasicProperties::kHeaders | amqp::BasicProperties::kDeliveryMode |
            amqp::BasicProperties::kContentType | amqp::BasicProperties::kReplyTo |
            amqp::BasicProperties::kAppId;
  p.headers = {{"s", amqp::FieldValue(std::string("v"))},
               {"i", amqp::FieldValue(int32_t{7})},
               {"b", amqp::FieldValue(true)},
               {"l", amqp::FieldValue(int64_t{1} << 40)}};
  p.delivery_mode = 1;
  p.content_type = "a/b";
  p.reply_to = "amq.gen-x";
  p.app_id = "app";
  std::vector<stomp::Header> want{{"s", "v"},
                                  {"i", "7"},
                                  {"l", "1099511627776"},
                                  {"app-id", "app"},
                                  {"reply-to", "/reply-queue/amq.gen-x"},
                                  {"persistent", "1"},
                                  {"content-type", "a/b"}};
  EXPECT_EQ(message_headers(p), want);
}

TEST(StompMapping, DestinationsAndMessageIds) {
  EXPECT_EQ(format_destination("", "q/1"), "/queue/q%2F1");
  EXPECT_EQ(format_destination("amq.topic", "a.b"), "/topic/a.b");
  EXPECT_EQ(format_destination("x", ""), "/exchange/x");
  EXPECT_EQ(format_destination("x", "k%\x01"), "/exchange/x/k%25%01");
  EXPECT_EQ(create_message_id("T_s", "session-a", 12), "T_s@@session-a@@12");
  auto id = parse_message_id("T_s@@session-a@@12");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->tag, "T_s");
  EXPECT_EQ(id->delivery_tag, 12u);
  EXPECT_FALSE(parse_message_id("T_s@@x"));
  EXPECT_FALSE(parse_message_id("a@@b@@c"));
}

TEST(StompMapping, ErlangPrintsStrings) {
  EXPECT_EQ(erl_quote("SEND"), "\"SEND\"");
  EXPECT_EQ(erl_quote("a\"b\\"), "\"a\\\"b\\\\\"");
  EXPECT_EQ(erl_quote(std::string_view("\x01\x02g", 3)), "[1,2,103]");
}

TEST(StompMapping, QueueArguments) {
  auto args = queue_arguments(
      send_frame({{"x-max-length", "10"}, {"x-queue-type", " quorum "}, {"x-other", "1"}}));
  ASSERT_TRUE(args);
  ASSERT_EQ(args->size(), 2u);
  EXPECT_EQ(args->at(0).second.as_int(), 10);
  EXPECT_EQ(*args->at(1).second.as_string(), "quorum");
  EXPECT_FALSE(queue_arguments(send_frame({{"x-message-ttl", "soon"}})));
}

}  // namespace
}  // namespace pulse::stomp_server
