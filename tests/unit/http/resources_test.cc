// Exchanges, queues and bindings: declaration defaults, redeclaration, reserved names,
// conditional deletes, and the binding forms (test_http_resources.py, test_http_defaults.py,
// test_http_body_errors.py).
#include <set>

#include "api_fixture.h"

namespace pulse::http::testing {
namespace {

using HttpResourcesTest = ApiTest;

TEST_F(HttpResourcesTest, EmptyExchangeBodyDeclaresTransientDirect) {
  EXPECT_EQ(call("PUT", on_root("exchanges", "dx"), "{}").status, 201u);
  Reply got = call("GET", on_root("exchanges", "dx"));
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.json["type"], "direct");
  EXPECT_EQ(got.json["durable"], false);
  EXPECT_EQ(got.json["auto_delete"], false);
  EXPECT_EQ(got.json["internal"], false);
  EXPECT_EQ(got.json["arguments"], json::object());
  EXPECT_EQ(got.json["vhost"], "/");
}

TEST_F(HttpResourcesTest, ExchangeRedeclareAndInequivalentType) {
  const std::string x = on_root("exchanges", "hx");
  EXPECT_EQ(call("PUT", x, R"({"type":"topic","durable":false})").status, 201u);
  EXPECT_EQ(call("PUT", x, R"({"type":"topic","durable":false})").status, 204u);
  Reply r = call("PUT", x, R"({"type":"direct","durable":false})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("inequivalent arg 'type' for exchange 'hx' in vhost '/': "
                                     "received 'direct' but current is 'topic'"));
  EXPECT_EQ(call("GET", x).json["type"], "topic");
}

TEST_F(HttpResourcesTest, ExchangeBodyErrors) {
  const std::string x = on_root("exchanges", "bx");
  EXPECT_EQ(call("PUT", x, R"({"type":"direct","durable":"yes"})").json,
            bad_request_body({"not_boolean", "yes"}));
  EXPECT_EQ(call("PUT", x, R"({"type":"direct","durable":1})").json,
            bad_request_body({"not_boolean", 1}));
  EXPECT_EQ(call("PUT", x, R"({"type":"direct","auto_delete":null})").json,
            bad_request_body({"not_boolean", nullptr}));
  EXPECT_EQ(call("PUT", x, R"({"type":""})").json, bad_request_body("invalid exchange type ''"));
  EXPECT_EQ(call("GET", x).status, 404u);
}

TEST_F(HttpResourcesTest, ReservedExchangeNamesAreRefused) {
  Reply r = call("PUT", on_root("exchanges", "amq.mine"), R"({"type":"direct"})");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "Access refused."));
  EXPECT_EQ(vhost().find_exchange("amq.mine"), nullptr);
  r = call("DELETE", on_root("exchanges", "amq.direct"));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "Access refused."));
  EXPECT_NE(vhost().find_exchange("amq.direct"), nullptr);
}

TEST_F(HttpResourcesTest, DefaultExchangeIsAddressedAsAmqDefault) {
  Reply got = call("GET", on_root("exchanges", "amq.default"));
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.json["name"], "");
  EXPECT_EQ(got.json["type"], "direct");
  std::vector<std::string> names;
  for (const auto& x : call("GET", "/api/exchanges/%2F?columns=name").json)
    names.push_back(x["name"]);
  EXPECT_NE(std::find(names.begin(), names.end(), ""), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "amq.topic"), names.end());
}

TEST_F(HttpResourcesTest, ExchangeDeleteIfUnused) {
  ASSERT_EQ(call("PUT", on_root("exchanges", "ux"), R"({"type":"fanout"})").status, 201u);
  ASSERT_EQ(call("PUT", on_root("queues", "uq"), "{}").status, 201u);
  ASSERT_EQ(call("POST", on_root("bindings", "e/ux/q/uq"), "{}").status, 201u);
  Reply r = call("DELETE", on_root("exchanges", "ux?if-unused=true"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("exchange 'ux' in vhost '/' in use"));
  EXPECT_EQ(call("DELETE", on_root("exchanges", "ux")).status, 204u);
  EXPECT_EQ(vhost().find_exchange("ux"), nullptr);
  EXPECT_EQ(call("DELETE", on_root("exchanges", "ux")).status, 404u);
}

TEST_F(HttpResourcesTest, EmptyQueueBodyDeclaresTransientClassic) {
  EXPECT_EQ(call("PUT", on_root("queues", "dq"), "{}").status, 201u);
  Reply got = call("GET", on_root("queues", "dq"));
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.json["durable"], false);
  EXPECT_EQ(got.json["auto_delete"], false);
  EXPECT_EQ(got.json["exclusive"], false);
  EXPECT_EQ(got.json["type"], "classic");
  EXPECT_EQ(got.json["state"], "running");
  EXPECT_EQ(got.json["node"], "rabbit@localhost");
  EXPECT_EQ(got.json["messages"], 0);
  EXPECT_EQ(got.json["consumer_details"], json::array());
}

TEST_F(HttpResourcesTest, QueueTopLevelTypeIsIgnoredSoDurableIsInequivalent) {
  ASSERT_EQ(call("PUT", on_root("queues", "dq"), "{}").status, 201u);
  Reply r = call("PUT", on_root("queues", "dq"), R"({"type":"quorum","durable":true})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("inequivalent arg 'durable' for queue 'dq' in vhost '/': "
                                     "received 'true' but current is 'false'"));
}

TEST_F(HttpResourcesTest, QuorumQueueMustBeDurable) {
  Reply r = call("PUT", on_root("queues", "dqq"), R"({"arguments":{"x-queue-type":"quorum"}})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json,
            bad_request_body("invalid property 'non-durable' for queue 'dqq' in vhost '/'"));
  ASSERT_EQ(call("PUT", on_root("queues", "dqq"),
                 R"({"durable":true,"arguments":{"x-queue-type":"quorum"}})")
                .status,
            201u);
  json got = call("GET", on_root("queues", "dqq?disable_stats=true")).json;
  EXPECT_EQ(got["type"], "quorum");
  EXPECT_EQ(got["leader"], "rabbit@localhost");
  EXPECT_EQ(got["members"], json::array({"rabbit@localhost"}));
  EXPECT_FALSE(got.contains("node"));
}

TEST_F(HttpResourcesTest, QueueRedeclareWithSameArgumentsIsNoContent) {
  const std::string body = R"({"durable":false,"arguments":{"x-max-length":10}})";
  EXPECT_EQ(call("PUT", on_root("queues", "hq"), body).status, 201u);
  EXPECT_EQ(call("PUT", on_root("queues", "hq"), body).status, 204u);
  EXPECT_EQ(call("GET", on_root("queues", "hq")).json["arguments"], (json{{"x-max-length", 10}}));
  EXPECT_EQ(call("PUT", on_root("queues", "hq"), R"({"durable":"yes"})").json,
            bad_request_body({"not_boolean", "yes"}));
}

TEST_F(HttpResourcesTest, ReservedQueueNameIsRefused) {
  Reply r = call("PUT", on_root("queues", "amq.q"), "{}");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.json, error_body("not_authorised", "Access refused."));
  EXPECT_EQ(vhost().find_queue("amq.q"), nullptr);
}

TEST_F(HttpResourcesTest, QueueDeleteIfEmptyAndPurge) {
  ASSERT_EQ(call("PUT", on_root("queues", "hq"), "{}").status, 201u);
  const std::string publish = R"({"routing_key":"hq","payload":"m","payload_encoding":"string",)"
                              R"("properties":{}})";
  ASSERT_EQ(call("POST", on_root("exchanges", "amq.default/publish"), publish).json,
            (json{{"routed", true}}));
  Reply r = call("DELETE", on_root("queues", "hq?if-empty=true"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json, bad_request_body("queue 'hq' in vhost '/' not empty"));
  EXPECT_EQ(call("DELETE", on_root("queues", "hq/contents")).status, 204u);
  EXPECT_EQ(vhost().find_queue("hq")->message_count(), 0u);
  EXPECT_EQ(call("DELETE", on_root("queues", "hq?if-empty=true")).status, 204u);
  EXPECT_EQ(call("DELETE", on_root("queues", "hq")).status, 404u);
  EXPECT_EQ(call("DELETE", on_root("queues", "hq/contents")).status, 404u);
}

TEST_F(HttpResourcesTest, MissingVhostAnswersDependOnTheMethod) {
  const json vhost_gone = error_body("not_found", "vhost_not_found");
  EXPECT_EQ(call("PUT", "/api/queues/no-such-vhost/q", "{}").json, vhost_gone);
  EXPECT_EQ(call("PUT", "/api/exchanges/no-such-vhost/x", R"({"type":"direct"})").json, vhost_gone);
  Reply bind = call("POST", "/api/bindings/no-such-vhost/e/amq.direct/q/q", "{}");
  EXPECT_EQ(bind.status, 404u);
  EXPECT_EQ(bind.json, vhost_gone);
  Reply get = call("GET", "/api/queues/no-such-vhost/q");
  EXPECT_EQ(get.status, 404u);
  EXPECT_EQ(get.json, kNotFound);
  EXPECT_EQ(call("DELETE", "/api/queues/no-such-vhost/q").json, kNotFound);
}

TEST_F(HttpResourcesTest, BindingCreateListAndPropertiesKeys) {
  ASSERT_EQ(call("PUT", on_root("exchanges", "hx"), R"({"type":"topic"})").status, 201u);
  ASSERT_EQ(call("PUT", on_root("queues", "hxq"), "{}").status, 201u);
  Reply r = call("POST", on_root("bindings", "e/hx/q/hxq"),
                 R"({"routing_key":"a.*","arguments":{"k":1}})");
  EXPECT_EQ(r.status, 201u);
  ASSERT_TRUE(r.header("location"));
  // The properties key, percent-encoded once more as a path segment.
  EXPECT_NE(r.header("location")->find("a.%252A~"), std::string::npos) << *r.header("location");
  EXPECT_EQ(call("POST", on_root("bindings", "e/hx/q/hxq"), R"({"routing_key":"b.#"})").status,
            201u);
  json list = call("GET", on_root("bindings", "e/hx/q/hxq")).json;
  ASSERT_EQ(list.size(), 2u);
  std::map<std::string, json> by_key;
  for (const auto& b : list) by_key[b["routing_key"]] = b;
  EXPECT_EQ(by_key["b.#"], (json{{"source", "hx"},
                                 {"vhost", "/"},
                                 {"destination", "hxq"},
                                 {"destination_type", "queue"},
                                 {"routing_key", "b.#"},
                                 {"arguments", json::object()},
                                 {"properties_key", "b.%23"}}));
  EXPECT_EQ(by_key["a.*"]["arguments"], (json{{"k", 1}}));
  EXPECT_EQ(by_key["a.*"]["properties_key"].get<std::string>().rfind("a.%2A~", 0), 0u);
  // The queue's own list starts with the default exchange's implicit binding.
  json qb = call("GET", on_root("queues", "hxq/bindings")).json;
  ASSERT_EQ(qb.size(), 3u);
  EXPECT_EQ(qb[0]["source"], "");
  EXPECT_EQ(qb[0]["routing_key"], "hxq");
  EXPECT_EQ(qb[0]["properties_key"], "hxq");
}

TEST_F(HttpResourcesTest, BindingToMissingExchangeIsNotFound) {
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  Reply r = call("POST", on_root("bindings", "e/nox/q/q"), "{}");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json, error_body("not_found", "no exchange 'nox' in vhost '/'"));
}

TEST_F(HttpResourcesTest, BindingDeleteByPropertiesKey) {
  ASSERT_EQ(call("PUT", on_root("exchanges", "hx"), R"({"type":"topic"})").status, 201u);
  ASSERT_EQ(call("PUT", on_root("exchanges", "hx2"), R"({"type":"fanout"})").status, 201u);
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  ASSERT_EQ(
      call("POST", on_root("bindings", "e/hx/q/q"), R"({"routing_key":"a.*","arguments":{"k":1}})")
          .status,
      201u);
  ASSERT_EQ(call("POST", on_root("bindings", "e/hx/e/hx2"), R"({"routing_key":"c"})").status, 201u);
  EXPECT_EQ(call("GET", on_root("bindings", "e/hx/e/hx2/c")).json["destination_type"], "exchange");
  EXPECT_EQ(call("GET", on_root("exchanges", "hx2/bindings/destination")).json[0]["source"], "hx");
  std::string pk = call("GET", on_root("bindings", "e/hx/q/q")).json[0]["properties_key"];
  // The key travels percent-encoded once more in the path, as clients send it.
  std::string path = on_root("bindings", "e/hx/q/q/");
  for (char ch : pk) path += ch == '%' ? std::string("%25") : std::string(1, ch);
  EXPECT_EQ(call("DELETE", path).status, 204u);
  EXPECT_EQ(call("DELETE", path).status, 404u);
  EXPECT_EQ(call("GET", on_root("bindings", "e/hx/q/q")).json, json::array());
  EXPECT_EQ(call("DELETE", on_root("bindings", "e/hx/e/hx2/c")).status, 204u);
  EXPECT_TRUE(vhost().find_exchange("hx")->bindings().empty());
}

// RabbitMQ's properties key (rabbit_mgmt_format:pack_binding_props) is "~" for an empty
// routing key without arguments, and quote_binding writes a "~" inside the key as "%7E" so it
// cannot be taken for the separator (checked on a 3.10.8 node).
TEST_F(HttpResourcesTest, PropertiesKeysOfEmptyAndTildeKeys) {
  ASSERT_EQ(call("PUT", on_root("queues", "q"), "{}").status, 201u);
  ASSERT_EQ(call("POST", on_root("bindings", "e/amq.direct/q/q"), "{}").status, 201u);
  ASSERT_EQ(
      call("POST", on_root("bindings", "e/amq.direct/q/q"), R"({"routing_key":"a~b"})").status,
      201u);
  std::set<std::string> keys;
  for (const auto& b : call("GET", on_root("bindings", "e/amq.direct/q/q")).json)
    keys.insert(b["properties_key"]);
  EXPECT_EQ(keys, (std::set<std::string>{"~", "a%7Eb"}));
  EXPECT_EQ(call("DELETE", on_root("bindings", "e/amq.direct/q/q/~")).status, 204u);
}

// RabbitMQ's Location is the new binding's path relative to the posted one
// (rabbit_web_dispatch_util:relativise): "<destination>/<properties key, quoted again>".
TEST_F(HttpResourcesTest, BindingLocationIsRelativeToThePostedPath) {
  ASSERT_EQ(call("PUT", on_root("queues", "hxq"), "{}").status, 201u);
  Reply r = call("POST", on_root("bindings", "e/amq.topic/q/hxq"), R"({"routing_key":"a.*"})");
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.header("location"), "hxq/a.%252A");
}

}  // namespace
}  // namespace pulse::http::testing
