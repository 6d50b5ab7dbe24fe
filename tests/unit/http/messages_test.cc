// Publishing and getting messages over the API, and policies (test_http_resources.py,
// test_http_body_errors.py).
#include "api_fixture.h"

namespace pulse::http::testing {
namespace {

class HttpMessagesTest : public ApiTest {
 protected:
  // A publish body with the four keys RabbitMQ requires.
  static std::string publish(const std::string& key, const std::string& payload,
                             const json& properties = json::object(),
                             const std::string& encoding = "string") {
    return json{{"routing_key", key},
                {"payload", payload},
                {"payload_encoding", encoding},
                {"properties", properties}}
        .dump();
  }
  static std::string get(int count, const std::string& ackmode) {
    return json{{"count", count}, {"ackmode", ackmode}, {"encoding", "auto"}}.dump();
  }
  Reply publish_to(const std::string& exchange, const std::string& body,
                   const std::string& as = "guest") {
    return call("POST", on_root("exchanges", exchange + "/publish"), body, as);
  }
};

TEST_F(HttpMessagesTest, PublishSaysWhetherItRouted) {
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  Reply r = publish_to("amq.default", publish("q", "hello"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.json, (json{{"routed", true}}));
  EXPECT_EQ(publish_to("amq.default", publish("nowhere", "x")).json, (json{{"routed", false}}));
  EXPECT_EQ(vhost().find_queue("q")->message_count(), 1u);
}

TEST_F(HttpMessagesTest, GetReturnsMessagesWithTheirProperties) {
  ASSERT_EQ(call("PUT", on_root("exchanges", "hx"), R"({"type":"topic"})").status, 201u);
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  ASSERT_EQ(call("POST", on_root("bindings", "e/hx/q/q"), R"({"routing_key":"#"})").status, 201u);
  ASSERT_EQ(
      publish_to("hx", publish("a.z", "hello", {{"headers", {{"h", "v"}}}, {"delivery_mode", 1}}))
          .json,
      (json{{"routed", true}}));
  ASSERT_EQ(publish_to("hx", publish("b.q", "//4A", json::object(), "base64")).json,
            (json{{"routed", true}}));
  Reply r = call("POST", on_root("queues", "q/get"),
                 R"({"count":5,"ackmode":"ack_requeue_true","encoding":"auto","truncate":50000})");
  EXPECT_EQ(r.status, 200u);
  ASSERT_EQ(r.json.size(), 2u);
  EXPECT_EQ(r.json[0], (json{{"payload_bytes", 5},
                             {"redelivered", false},
                             {"exchange", "hx"},
                             {"routing_key", "a.z"},
                             {"message_count", 1},
                             {"properties", {{"headers", {{"h", "v"}}}, {"delivery_mode", 1}}},
                             {"payload", "hello"},
                             {"payload_encoding", "string"}}));
  // Not UTF-8: answered in base64; no properties print as Erlang's empty list.
  EXPECT_EQ(r.json[1]["payload"], "//4A");
  EXPECT_EQ(r.json[1]["payload_encoding"], "base64");
  EXPECT_EQ(r.json[1]["payload_bytes"], 3);
  EXPECT_EQ(r.json[1]["properties"], json::array());
  EXPECT_EQ(vhost().find_queue("q")->message_count(), 2u);  // requeued
}

TEST_F(HttpMessagesTest, GetAckmodesRequeueOrRemove) {
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  for (const char* body : {"m1", "m2"})
    ASSERT_EQ(publish_to("amq.default", publish("q", body)).json, (json{{"routed", true}}));
  Reply first = call("POST", on_root("queues", "q/get"), get(1, "ack_requeue_true"));
  ASSERT_EQ(first.json.size(), 1u);
  EXPECT_EQ(first.json[0]["redelivered"], false);
  Reply again = call("POST", on_root("queues", "q/get"), get(1, "ack_requeue_false"));
  ASSERT_EQ(again.json.size(), 1u);
  EXPECT_EQ(again.json[0]["payload"], "m1");
  EXPECT_EQ(again.json[0]["redelivered"], true);
  EXPECT_EQ(again.json[0]["message_count"], 1);
  EXPECT_EQ(vhost().find_queue("q")->message_count(), 1u);
  EXPECT_EQ(call("POST", on_root("queues", "q/get"), get(5, "reject_requeue_false")).json.size(),
            1u);
  EXPECT_EQ(call("POST", on_root("queues", "q/get"), get(5, "ack_requeue_true")).json,
            json::array());
}

TEST_F(HttpMessagesTest, GetTruncatesAndForcesBase64) {
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  ASSERT_EQ(publish_to("amq.default", publish("q", "abcdef")).json, (json{{"routed", true}}));
  Reply r = call("POST", on_root("queues", "q/get"),
                 R"({"count":1,"ackmode":"ack_requeue_true","encoding":"base64","truncate":3})");
  ASSERT_EQ(r.json.size(), 1u);
  EXPECT_EQ(r.json[0]["payload"], "YWJj");  // "abc"
  EXPECT_EQ(r.json[0]["payload_encoding"], "base64");
  EXPECT_EQ(r.json[0]["payload_bytes"], 6);
}

TEST_F(HttpMessagesTest, PublishMissingKeysAreListedInOrder) {
  // Four missing keys no longer fit in 80 columns: Erlang prints one per line.
  EXPECT_EQ(publish_to("amq.direct", "{}").json,
            bad_request_body("[{key_missing,routing_key},\n {key_missing,properties},\n"
                             " {key_missing,payload},\n {key_missing,payload_encoding}]"));
  EXPECT_EQ(publish_to("amq.direct", R"({"routing_key":"k","payload":"x"})").json,
            bad_request_body("[{key_missing,properties},{key_missing,payload_encoding}]"));
}

TEST_F(HttpMessagesTest, PublishValueErrors) {
  EXPECT_EQ(
      publish_to("amq.direct", R"({"routing_key":"k","payload":5,"payload_encoding":"string",)"
                               R"("properties":{}})")
          .json,
      bad_request_body("payload_not_string"));
  EXPECT_EQ(publish_to("amq.direct", publish("k", "x", json::object(), "base64")).json,
            bad_request_body({"not_base64", "x"}));
  EXPECT_EQ(publish_to("amq.direct", publish("k", "x", json::object(), "hex")).json,
            bad_request_body({"unsupported_encoding", "hex"}));
  const std::vector<std::pair<json, json>> cases = {
      {{{"delivery_mode", "2"}}, {"not_int", "delivery_mode"}},
      {{{"priority", 1.5}}, {"not_int", "priority"}},
      {{{"content_type", 5}}, {"not_string", "content_type"}},
      {{{"expiration", 60000}}, {"not_string", "expiration"}},
      // The first wrong field in the record's order wins.
      {{{"app_id", 5}, {"timestamp", "x"}, {"priority", "y"}}, {"not_int", "priority"}}};
  for (const auto& [props, reason] : cases)
    EXPECT_EQ(publish_to("amq.direct", publish("k", "x", props)).json, bad_request_body(reason))
        << props;
  // Properties are checked before the payload is decoded.
  EXPECT_EQ(publish_to("amq.direct", publish("k", "x", {{"priority", "x"}}, "base64")).json,
            bad_request_body({"not_int", "priority"}));
}

TEST_F(HttpMessagesTest, PublishAnswersWithTheChannelError) {
  ASSERT_EQ(call("PUT", on_root("exchanges", "ix"), R"({"type":"fanout","internal":true})").status,
            201u);
  EXPECT_EQ(publish_to("none", publish("k", "x")).json,
            bad_request_body("404 NOT_FOUND - no exchange 'none' in vhost '/'"));
  EXPECT_EQ(publish_to("ix", publish("k", "x")).json,
            bad_request_body("403 ACCESS_REFUSED - cannot publish to internal exchange 'ix' in "
                             "vhost '/'"));
  EXPECT_EQ(publish_to("amq.direct", publish("k", "x", {{"user_id", "bob"}})).json,
            bad_request_body("406 PRECONDITION_FAILED - user_id property set to 'bob' but "
                             "authenticated user was 'guest'"));
}

TEST_F(HttpMessagesTest, PublishChecksWriteAndTopicPermissions) {
  EXPECT_EQ(publish_to("amq.direct", publish("k", "x"), "alice").json,
            bad_request_body("403 ACCESS_REFUSED - access to exchange 'amq.direct' in vhost '/' "
                             "refused for user 'alice'"));
  EXPECT_EQ(publish_to("amq.topic", publish("bob.x", "x"), "alice").json,
            bad_request_body("403 ACCESS_REFUSED - access to topic 'bob.x' in exchange "
                             "'amq.topic' in vhost '/' refused for user 'alice'"));
  Reply ok = publish_to("amq.topic", publish("alice.x", "x"), "alice");
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.json, (json{{"routed", false}}));
  // The body is read before any permission is checked.
  EXPECT_EQ(
      publish_to("amq.direct", R"({"routing_key":"k","properties":{},"payload_encoding":"string"})",
                 "alice")
          .json,
      bad_request_body("[{key_missing,payload}]"));
}

TEST_F(HttpMessagesTest, GetBodyErrors) {
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  const std::string path = on_root("queues", "q/get");
  EXPECT_EQ(call("POST", path, "{}").json,
            bad_request_body("[{key_missing,ackmode},{key_missing,count},{key_missing,encoding}]"));
  EXPECT_EQ(call("POST", path, R"({"count":1})").json,
            bad_request_body("[{key_missing,ackmode},{key_missing,encoding}]"));
  // An old client's "requeue" is no ackmode.
  EXPECT_EQ(call("POST", path, R"({"count":1,"requeue":true,"encoding":"auto"})").json,
            bad_request_body("[{key_missing,ackmode}]"));
  EXPECT_EQ(
      call("POST", path, R"({"count":"x","ackmode":"ack_requeue_true","encoding":"auto"})").json,
      bad_request_body({"not_integer", "x"}));
  EXPECT_EQ(call("POST", path,
                 R"({"count":1,"ackmode":"ack_requeue_true","encoding":"auto","truncate":null})")
                .json,
            bad_request_body({"not_integer", nullptr}));
  EXPECT_EQ(call("POST", path, R"({"count":1,"ackmode":"ack_requeue_true","encoding":"hex"})").json,
            bad_request_body("Unsupported encoding. Please use auto or base64."));
  Reply digits =
      call("POST", path, R"({"count":"2","ackmode":"ack_requeue_true","encoding":"auto"})");
  EXPECT_EQ(digits.status, 200u);
  EXPECT_EQ(digits.json, json::array());
}

TEST_F(HttpMessagesTest, MissingQueueOrVhostOnGetAndPublish) {
  Reply r = call("POST", on_root("queues", "noq/get"), get(1, "ack_requeue_true"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json, error_body("not_found", "NOT_FOUND - no queue 'noq' in vhost '/'"));
  const json refused = error_body("not_authorised", "Access refused.");
  Reply pub = call("POST", "/api/exchanges/no-such-vhost/amq.direct/publish", publish("k", "x"));
  EXPECT_EQ(pub.status, 401u);
  EXPECT_EQ(pub.json, refused);
  Reply got = call("POST", "/api/queues/no-such-vhost/q/get", get(1, "ack_requeue_true"));
  EXPECT_EQ(got.status, 401u);
  EXPECT_EQ(got.json, refused);
}

TEST_F(HttpMessagesTest, PolicyRoundTripAppliesToQueues) {
  ASSERT_EQ(call("PUT", on_root("queues", "pol.q"), "{}").status, 201u);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(publish_to("amq.default", publish("pol.q", "m")).json, (json{{"routed", true}}));
  const std::string path = on_root("policies", "hpol");
  const std::string body =
      R"({"pattern":"^pol\\.q$","definition":{"max-length":2},"priority":7,"apply-to":"queues"})";
  EXPECT_EQ(call("PUT", path, body).status, 201u);
  EXPECT_EQ(call("PUT", path, body).status, 204u);
  EXPECT_EQ(call("GET", path).json, (json{{"vhost", "/"},
                                          {"name", "hpol"},
                                          {"pattern", "^pol\\.q$"},
                                          {"apply-to", "queues"},
                                          {"definition", {{"max-length", 2}}},
                                          {"priority", 7}}));
  EXPECT_EQ(vhost().find_queue("pol.q")->message_count(), 2u);
  EXPECT_EQ(call("GET", on_root("queues", "pol.q")).json["policy"], "hpol");
  EXPECT_EQ(call("DELETE", path).status, 204u);
  EXPECT_EQ(call("DELETE", path).status, 404u);
  EXPECT_EQ(call("GET", on_root("queues", "pol.q")).json["policy"], nullptr);
}

TEST_F(HttpMessagesTest, PolicyValidationTexts) {
  const std::string path = on_root("policies", "bp");
  EXPECT_EQ(call("PUT", path, R"({"pattern":"^x","definition":{"max-length":"ten"}})").json,
            bad_request_body("Validation failed\n\n&lt;&lt;\"ten\"&gt;&gt; is not a valid "
                             "maximum length\n"));
  const std::string ok = R"("pattern":"^nothing","definition":{"max-length":1})";
  EXPECT_EQ(call("PUT", path, "{" + ok + R"(,"priority":"5"})").json,
            bad_request_body("Validation failed\n\npriority should be a number, actually was "
                             "&lt;&lt;\"5\"&gt;&gt;\n"));
  EXPECT_EQ(call("PUT", path, "{" + ok + R"(,"priority":true})").json,
            bad_request_body("Validation failed\n\npriority should be a number, actually was "
                             "true\n"));
  EXPECT_EQ(call("PUT", path, R"({"pattern":5,"definition":{"max-length":1}})").json,
            bad_request_body("Validation failed\n\npattern should be a binary but was 5\n"));
  EXPECT_EQ(call("PUT", path, "{}").json,
            bad_request_body("[{key_missing,pattern},{key_missing,definition}]"));
  EXPECT_EQ(call("PUT", path, R"({"pattern":"^x"})").json,
            bad_request_body("[{key_missing,definition}]"));
  Reply unknown = call("PUT", path, R"({"pattern":".","definition":{"max-lengthx":1}})");
  EXPECT_EQ(unknown.status, 400u);
  const std::string reason = unknown.json["reason"];
  EXPECT_EQ(reason.rfind("Validation failed\n\n", 0), 0u) << reason;
  EXPECT_NE(reason.find("max-lengthx"), std::string::npos) << reason;
  EXPECT_TRUE(reason.ends_with("not recognised policy settings\n")) << reason;
  EXPECT_EQ(call("GET", path).status, 404u);
  EXPECT_EQ(call("PUT", path, "{" + ok + R"(,"priority":3})").status, 201u);
}

TEST_F(HttpMessagesTest, PolicyOnMissingVhostIsVhostNotFound) {
  Reply r = call("PUT", "/api/policies/no-such-vhost/p", R"({"pattern":".","definition":{}})");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json, error_body("not_found", "vhost_not_found"));
}

}  // namespace
}  // namespace pulse::http::testing
