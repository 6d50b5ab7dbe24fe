#include "delivery_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pulse::tools {
namespace {

using amqp::BasicProperties;
using nlohmann::json;

client::Delivery delivery(std::string_view body, const BasicProperties* props = nullptr) {
  client::Delivery d;
  d.exchange = "exchange/build/";
  d.routing_key = "build.linux64.opt";
  d.redelivered = false;
  d.properties = props;
  d.body = body;
  return d;
}

// The printed line, checked to be exactly one line, parsed.
json line_of(const client::Delivery& d) {
  std::string out;
  append_delivery_json(out, d);
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  return json::parse(out);
}

TEST(DeliveryJson, JsonBodyIsEmbeddedAsAValue) {
  BasicProperties p;
  p.set_content_type("application/json");
  p.set_delivery_mode(2);
  const std::string body =
      R"({"payload": {"n": 1, "s": "caf\u00e9 \"q\""}, "_meta": {"exchange": "exchange/build/"}})";
  std::string out;
  append_delivery_json(out, delivery(body, &p));
  EXPECT_EQ(out,
            "{\"exchange\": \"exchange/build/\", \"routing_key\": \"build.linux64.opt\", "
            "\"redelivered\": false, \"properties\": {\"content_type\": \"application/json\", "
            "\"delivery_mode\": 2}, \"body\": " +
                body + "}\n");
  EXPECT_EQ(json::parse(out)["body"]["payload"]["s"], "café \"q\"");
}

TEST(DeliveryJson, PrettyPrintedJsonStaysOnOneLine) {
  const std::string body = "{\r\n  \"a\": [1,\n 2],\n  \"b\": \"x\\ny\"\n}\n";
  const json j = line_of(delivery(body));
  EXPECT_EQ(j["body"], json::parse(body));
  EXPECT_FALSE(j.contains("body_encoding"));
}

TEST(DeliveryJson, ScalarJsonBodies) {
  EXPECT_EQ(line_of(delivery("42"))["body"], 42);
  EXPECT_EQ(line_of(delivery(" \"text\" "))["body"], "text");
  EXPECT_TRUE(line_of(delivery("null"))["body"].is_null());
}

TEST(DeliveryJson, TextBodyIsAString) {
  const std::string body = "hello, \"world\"\n\ttab\\ ünïcode \x01 end";
  const json j = line_of(delivery(body));
  EXPECT_EQ(j["body"], body);
  EXPECT_FALSE(j.contains("body_encoding"));
  // Almost JSON is still text.
  EXPECT_EQ(line_of(delivery("{\"a\": 1"))["body"], "{\"a\": 1");
  EXPECT_EQ(line_of(delivery(""))["body"], "");
}

TEST(DeliveryJson, InvalidUtf8BodyIsBase64) {
  const std::string body("\x00\x01\xff\xfe binary \xc3", 13);
  const json j = line_of(delivery(body));
  EXPECT_EQ(j["body"], "AAH//iBiaW5hcnkgww==");
  EXPECT_EQ(j["body_encoding"], "base64");
  // A JSON-looking body with an invalid byte inside a string is not JSON either.
  EXPECT_EQ(line_of(delivery("\"a\xff\""))["body_encoding"], "base64");
  // Overlong encodings and UTF-16 surrogates are not UTF-8.
  EXPECT_EQ(line_of(delivery("\xc0\xaf"))["body_encoding"], "base64");
  EXPECT_EQ(line_of(delivery("\xed\xa0\x80"))["body_encoding"], "base64");
}

TEST(DeliveryJson, Base64Padding) {
  const auto b64 = [](std::string_view s) {
    std::string out;
    append_base64(out, s);
    return out;
  };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
}

TEST(DeliveryJson, Utf8Validation) {
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(valid_utf8("\xe2\x82"));                             // truncated
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));                     // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));
}

TEST(DeliveryJson, EveryPropertyPresentIsPrintedAndNoOther) {
  BasicProperties p;
  p.set_content_type("text/plain");
  p.set_content_encoding("gzip");
  p.set_delivery_mode(1);
  p.set_priority(7);
  p.set_correlation_id("corr");
  p.set_reply_to("amq.rabbitmq.reply-to");
  p.set_expiration("60000");
  p.set_message_id("m-1");
  p.set_timestamp(1700000000);
  p.set_type("t");
  p.set_user_id("guest");
  p.set_app_id("app");
  p.set_cluster_id("c");
  const json props = line_of(delivery("x", &p))["properties"];
  EXPECT_EQ(props, json::parse(R"({"content_type": "text/plain", "content_encoding": "gzip",
      "delivery_mode": 1, "priority": 7, "correlation_id": "corr",
      "reply_to": "amq.rabbitmq.reply-to", "expiration": "60000", "message_id": "m-1",
      "timestamp": 1700000000, "type": "t", "user_id": "guest", "app_id": "app",
      "cluster_id": "c"})"));

  BasicProperties empty_id;
  empty_id.set_message_id("");  // present but empty is still present
  EXPECT_EQ(line_of(delivery("x", &empty_id))["properties"], json::parse(R"({"message_id": ""})"));
  EXPECT_EQ(line_of(delivery("x"))["properties"], json::object());
}

TEST(DeliveryJson, HeadersWithNestedValues) {
  amqp::FieldTable nested;
  amqp::set(nested, "depth", int32_t{2});
  amqp::set(nested, "inner", amqp::FieldTable{{"leaf", amqp::FieldValue(true)}});
  amqp::FieldTable headers;
  amqp::set(headers, "CC", amqp::FieldArray{"route.a", "route.b"});
  amqp::set(headers, "table", nested);
  amqp::set(headers, "bytes", amqp::ByteArray{"raw\x01"});
  amqp::set(headers, "bad-bytes", amqp::ByteArray{"a\xff"});
  amqp::set(headers, "when", amqp::Timestamp{1700000000});
  amqp::set(headers, "count", int64_t{-5});
  amqp::set(headers, "ratio", 0.5);
  amqp::set(headers, "nothing", amqp::Void{});
  amqp::set(headers, "mixed", amqp::FieldArray{int8_t{1}, "two", amqp::FieldArray{}});
  BasicProperties p;
  p.set_headers(headers);
  p.set_delivery_mode(2);
  const json props = line_of(delivery("{}", &p))["properties"];
  EXPECT_EQ(props["headers"], json::parse(R"({"CC": ["route.a", "route.b"],
      "table": {"depth": 2, "inner": {"leaf": true}}, "bytes": "raw\u0001",
      "bad-bytes": "a\ufffd", "when": 1700000000, "count": -5, "ratio": 0.5, "nothing": null,
      "mixed": [1, "two", []]})"));
  EXPECT_EQ(props["delivery_mode"], 2);
}

TEST(DeliveryJson, NamesAreEscapedAndRedeliveredShown) {
  client::Delivery d = delivery("1");
  d.exchange = "ex\"change";
  d.routing_key = "key\n\xff";
  d.redelivered = true;
  const json j = line_of(d);
  EXPECT_EQ(j["exchange"], "ex\"change");
  EXPECT_EQ(j["routing_key"], "key\n\xef\xbf\xbd");
  EXPECT_EQ(j["redelivered"], true);
}

TEST(DeliveryJson, RawIsTheBodyAlone) {
  std::string out;
  append_delivery_raw(out, delivery("{\"a\": 1}"));
  append_delivery_raw(out, delivery(std::string_view("\x00\xff", 2)));
  EXPECT_EQ(out, std::string("{\"a\": 1}\n\x00\xff\n", 12));
}

}  // namespace
}  // namespace pulse::tools
