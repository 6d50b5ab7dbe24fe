#include <gtest/gtest.h>

#include "pulse/push/message.h"
#include "pulse/push/model.h"

namespace pulse::push {
namespace {

using nlohmann::json;

json good() {
  return {{"exchange", "exchange/a/x"}, {"callback", "http://h.example/cb"}, {"secret", "k"}};
}

std::string refusal(json body) {
  auto r = parse_request(body, Limits{});
  return r ? "" : r.error().text;
}

TEST(PushModel, DefaultsAndNormalisedCallback) {
  auto r = parse_request(good(), Limits{});
  ASSERT_TRUE(r) << r.error().text;
  EXPECT_EQ(r->vhost, "/");
  EXPECT_EQ(r->topic, "#");
  EXPECT_EQ(r->lease_seconds, 24u * 3600);
  auto bare = good();
  bare["callback"] = "https://h.example:8443?x=1";
  auto b = parse_request(bare, Limits{});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->callback, "https://h.example:8443/?x=1");
}

TEST(PushModel, RefusesBadInputNamingTheField) {
  auto with = [](const char* k, json v) {
    auto j = good();
    j[k] = std::move(v);
    return j;
  };
  EXPECT_EQ(refusal(json::array()), "the body must be a JSON object");
  EXPECT_EQ(refusal(with("colour", 1)), "unknown field 'colour'");
  EXPECT_EQ(refusal(with("callback", "ftp://h/")), "'callback' must be an http:// or https:// URL");
  EXPECT_EQ(refusal(with("callback", "http://:80/")), "'callback' has no host");
  EXPECT_EQ(refusal(with("callback", "http://h:99999/")), "'callback' has a bad port '99999'");
  EXPECT_EQ(refusal(with("callback", "http://h/#f")), "'callback' must not have a fragment ('#')");
  EXPECT_EQ(refusal(with("callback", std::string("http://h/") + std::string(3000, 'a'))),
            "'callback' is longer than 2048 characters");
  EXPECT_EQ(refusal(with("secret", 5)), "'secret' must be a string");
  EXPECT_EQ(refusal(with("secret", "")), "'secret' must not be empty");
  EXPECT_EQ(refusal(with("lease_seconds", 0)), "'lease_seconds' must be between 1 and 2592000");
  EXPECT_EQ(refusal(with("lease_seconds", 1.5)),
            "'lease_seconds' must be a whole number of seconds");
  EXPECT_EQ(refusal(with("user", "a/b")), "'user' must not contain '/'");
  auto no_exchange = good();
  no_exchange.erase("exchange");
  EXPECT_EQ(refusal(no_exchange), "'exchange' is required");
}

TEST(PushModel, TopicPatterns) {
  for (const char* ok : {"#", "*", "a.b", "a.*.c", "a.#", "#.x", "build.*.finished"})
    EXPECT_TRUE(check_topic(ok)) << ok;
  for (const char* bad : {"", "a..b", ".a", "a.", "a#", "a.b*", "**"})
    EXPECT_FALSE(check_topic(bad)) << bad;
  EXPECT_FALSE(check_topic(std::string(256, 'a')));
  EXPECT_FALSE(check_topic("\xff"));
}

TEST(PushModel, RecordRoundTrip) {
  Subscription s;
  s.id = "00ff";
  s.owner = "o@example.com";
  s.queue_owner = "ann";
  s.exchange = "exchange/a/x";
  s.topic = "a.#";
  s.callback = "http://h/";
  s.secret = "k";
  s.lease_seconds = 60;
  s.created = TimePoint(std::chrono::seconds(1800000000));
  s.expires = s.created + std::chrono::seconds(60);
  s.state = State::kActive;
  s.delivered = 7;
  s.last_delivery = s.created;
  auto back = from_record(to_record(s));
  ASSERT_TRUE(back) << back.error().text;
  EXPECT_EQ(to_record(*back), to_record(s));
  EXPECT_EQ(back->queue(), "queue/ann/push-00ff");
  EXPECT_FALSE(from_record(json{{"id", "x"}}));
}

TEST(PushMessage, SignatureIsHmacSha256Hex) {
  // RFC 4231 test case 2.
  EXPECT_EQ(signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(PushMessage, BodyIsJsonTextOrBase64) {
  PushMessage m{"exchange/a/x", "a.b", true, json::object(), R"({"payload": {"n": 1}})"};
  auto j = json::parse(delivery_body(m));
  EXPECT_EQ(j["body"]["payload"]["n"], 1);
  EXPECT_EQ(j["routing_key"], "a.b");
  EXPECT_EQ(j["redelivered"], true);
  m.body = "plain text";
  EXPECT_EQ(json::parse(delivery_body(m))["body"], "plain text");
  m.body = std::string("\xff\x00\x01", 3);
  j = json::parse(delivery_body(m));
  EXPECT_EQ(j["body"], "/wAB");
  EXPECT_EQ(j["body_encoding"], "base64");
}

}  // namespace
}  // namespace pulse::push
