// Definitions import into a Broker: exchanges, queues with arguments and bindings exist
// afterwards and route like declared ones.
#include "app/boot.h"
#include "definitions/json.h"

#include <gtest/gtest.h>

namespace pulse::app {
namespace {

using definitions::apply_definitions;
using definitions::parse_definitions;

constexpr std::string_view kDefs = R"json({
  "rabbit_version": "3.10.8",
  "vhosts": [{"name": "/"}, {"name": "other"}],
  "exchanges": [
    {"name": "orders", "vhost": "/", "type": "topic", "durable": true, "auto_delete": false,
     "internal": false, "arguments": {"alternate-exchange": "unrouted"}},
    {"name": "unrouted", "vhost": "/", "type": "fanout", "durable": true, "auto_delete": false,
     "internal": false, "arguments": {}},
    {"name": "audit", "vhost": "/", "type": "fanout", "durable": true, "auto_delete": false,
     "internal": true, "arguments": {}},
    {"name": "amq.direct", "vhost": "/", "type": "direct", "durable": true, "auto_delete": false,
     "internal": false, "arguments": {}}
  ],
  "queues": [
    {"name": "eu-orders", "vhost": "/", "durable": true, "auto_delete": false,
     "arguments": {"x-max-length": 2, "x-overflow": "reject-publish",
                   "x-dead-letter-exchange": "unrouted"}},
    {"name": "leftovers", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}},
    {"name": "audit-log", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}},
    {"name": "votes", "vhost": "/", "durable": true, "auto_delete": false, "type": "quorum",
     "arguments": {"x-delivery-limit": 3}},
    {"name": "elsewhere", "vhost": "other", "durable": false, "auto_delete": true,
     "arguments": {"x-max-priority": 5}}
  ],
  "bindings": [
    {"source": "orders", "vhost": "/", "destination": "eu-orders", "destination_type": "queue",
     "routing_key": "order.eu.*", "arguments": {}},
    {"source": "unrouted", "vhost": "/", "destination": "leftovers", "destination_type": "queue",
     "routing_key": "", "arguments": {}},
    {"source": "orders", "vhost": "/", "destination": "audit", "destination_type": "exchange",
     "routing_key": "#", "arguments": {}},
    {"source": "audit", "vhost": "/", "destination": "audit-log", "destination_type": "queue",
     "routing_key": "", "arguments": {}}
  ]
})json";

class BootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto defs = parse_definitions(kDefs);
    ASSERT_TRUE(defs.ok()) << defs.error().text;
    auto s = apply_definitions(*defs, broker, auth);
    ASSERT_TRUE(s.ok()) << s.error().text;
    vh = broker.find_vhost("/");
    ASSERT_NE(vh, nullptr);
  }

  broker::PublishOutcome publish(const std::string& x, const std::string& key) {
    broker::Message m;
    m.exchange = x;
    m.routing_key = key;
    m.body = "m";
    auto r = vh->publish(std::move(m));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
    return r.ok() ? *r : broker::PublishOutcome{};
  }

  size_t count(const std::string& q) { return vh->find_queue(q)->message_count(); }

  broker::Broker broker;
  auth::AuthStore auth;
  broker::VHost* vh = nullptr;
};

TEST_F(BootTest, ObjectsExistWithTheirProperties) {
  broker::Exchange* orders = vh->find_exchange("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->type(), broker::ExchangeType::kTopic);
  EXPECT_TRUE(orders->durable());
  EXPECT_EQ(orders->alternate_exchange(), "unrouted");
  ASSERT_NE(vh->find_exchange("audit"), nullptr);
  EXPECT_TRUE(vh->find_exchange("audit")->internal());

  auto eu = vh->find_queue("eu-orders");
  ASSERT_NE(eu, nullptr);
  EXPECT_TRUE(eu->durable());
  EXPECT_EQ(eu->args().max_length, 2);
  EXPECT_EQ(eu->args().overflow, broker::Overflow::kRejectPublish);
  EXPECT_EQ(eu->args().dead_letter_exchange, "unrouted");

  auto votes = vh->find_queue("votes");
  ASSERT_NE(votes, nullptr);
  EXPECT_TRUE(votes->args().quorum);  // from "type", as x-queue-type
  EXPECT_EQ(votes->args().delivery_limit, 3);

  broker::VHost* other = broker.find_vhost("other");
  ASSERT_NE(other, nullptr);
  auto elsewhere = other->find_queue("elsewhere");
  ASSERT_NE(elsewhere, nullptr);
  EXPECT_TRUE(elsewhere->auto_delete());
  EXPECT_EQ(elsewhere->args().max_priority, 5);
  EXPECT_EQ(vh->find_queue("elsewhere"), nullptr);
}

TEST_F(BootTest, ImportedBindingsRoute) {
  // Topic binding plus the exchange-to-exchange binding into the internal audit exchange.
  EXPECT_EQ(publish("orders", "order.eu.new").routed, 2u);
  EXPECT_EQ(count("eu-orders"), 1u);
  EXPECT_EQ(count("audit-log"), 1u);
  // Not matched by the topic binding: audit still takes it, so the AE is not used.
  EXPECT_EQ(publish("orders", "order.us.new").routed, 1u);
  EXPECT_EQ(count("leftovers"), 0u);
  EXPECT_EQ(count("audit-log"), 2u);
  // Imported queue arguments are in force: x-max-length 2 with reject-publish.
  EXPECT_FALSE(publish("orders", "order.eu.2").rejected);
  EXPECT_TRUE(publish("orders", "order.eu.3").rejected);
  EXPECT_EQ(count("eu-orders"), 2u);
}

TEST_F(BootTest, AlternateExchangeFromDefinitions) {
  ASSERT_TRUE(vh->unbind_exchange("audit", "orders", "#", {}).ok());
  EXPECT_EQ(publish("orders", "nothing.matches").routed, 1u);
  EXPECT_EQ(count("leftovers"), 1u);
}

TEST_F(BootTest, ReimportIsIdempotentAndConflictsAreNamed) {
  auto defs = parse_definitions(kDefs);
  ASSERT_TRUE(defs.ok());
  EXPECT_TRUE(apply_definitions(*defs, broker, auth).ok());
  EXPECT_EQ(vh->find_exchange("orders")->bindings().size(), 2u);

  auto changed = parse_definitions(R"json({"queues": [{"name": "eu-orders", "vhost": "/",
      "durable": true, "auto_delete": false, "arguments": {"x-max-length": 5}}]})json");
  ASSERT_TRUE(changed.ok());
  auto s = apply_definitions(*changed, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().text.find("queue 'eu-orders'"), std::string::npos) << s.error().text;
  EXPECT_NE(s.error().text.find("inequivalent arg"), std::string::npos) << s.error().text;
}

TEST_F(BootTest, UnknownVhostIsAnError) {
  auto defs = parse_definitions(R"json({"queues": [{"name": "q", "vhost": "nope",
      "durable": true, "auto_delete": false, "arguments": {}}]})json");
  ASSERT_TRUE(defs.ok());
  auto s = apply_definitions(*defs, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().text.find("'nope'"), std::string::npos) << s.error().text;
}

TEST(BootPolicies, ImportedPoliciesApplyToImportedAndLaterQueues) {
  // The file lists queues before policies: the import still applies policies first.
  auto defs = parse_definitions(R"json({
    "vhosts": [{"name": "/"}],
    "queues": [{"name": "capped.a", "vhost": "/", "durable": true, "auto_delete": false,
                "arguments": {}}],
    "policies": [
      {"vhost": "/", "name": "cap", "pattern": "^capped\\.", "apply-to": "queues",
       "definition": {"max-length": 1, "overflow": "reject-publish"}, "priority": 1},
      {"vhost": "/", "name": "ae", "pattern": "^orders$",
       "definition": {"alternate-exchange": "unrouted"}}
    ],
    "exchanges": [{"name": "orders", "vhost": "/", "type": "direct", "durable": true,
                   "auto_delete": false, "internal": false, "arguments": {}}]})json");
  ASSERT_TRUE(defs.ok()) << defs.error().text;
  broker::Broker broker;
  auth::AuthStore auth;
  ASSERT_TRUE(apply_definitions(*defs, broker, auth).ok());
  broker::VHost* vh = broker.find_vhost("/");
  auto q = vh->find_queue("capped.a");
  ASSERT_NE(q->policy(), nullptr);
  EXPECT_EQ(q->policy()->name(), "cap");
  EXPECT_EQ(q->args().max_length, 1);
  EXPECT_EQ(q->args().overflow, broker::Overflow::kRejectPublish);
  EXPECT_EQ(vh->find_exchange("orders")->alternate_exchange(), "unrouted");
  EXPECT_EQ(vh->find_policy("ae")->apply_to(), broker::PolicyApplyTo::kAll);  // the default
  EXPECT_EQ(vh->find_policy("ae")->priority(), 0);
}

TEST(BootPolicies, AnInvalidPolicyStopsTheImportNamingIt) {
  auto defs = parse_definitions(R"json({"vhosts": [{"name": "/"}],
    "policies": [{"vhost": "/", "name": "typo", "pattern": "(",
                  "definition": {"max-lenght": 1}, "priority": 0, "apply-to": "queues"}]})json");
  ASSERT_TRUE(defs.ok()) << defs.error().text;
  broker::Broker broker;
  auth::AuthStore auth;
  auto s = apply_definitions(*defs, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text,
            "policy 'typo' in vhost '/': [{<<\"max-lenght\">>,1}] are not recognised policy "
            "settings; pattern should be regular expression but is invalid: {\"missing )\",1}");
  EXPECT_TRUE(broker.find_vhost("/")->policies().empty());
}

TEST(BootPolicies, PolicyInAnUnknownVhost) {
  auto defs = parse_definitions(R"json({"policies": [{"vhost": "nope", "name": "p",
      "pattern": ".*", "definition": {"max-length": 1}}]})json");
  ASSERT_TRUE(defs.ok()) << defs.error().text;
  broker::Broker broker;
  auth::AuthStore auth;
  auto s = apply_definitions(*defs, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().text.find("'nope'"), std::string::npos) << s.error().text;
}

// Imported global parameters replace the node's (cluster_name included), as RabbitMQ's import.
TEST(BootGlobalParameters, ImportSetsThemAndRefusesANonStringClusterName) {
  auto defs = parse_definitions(R"json({"global_parameters": [
      {"name": "cluster_name", "value": "imported"},
      {"name": "other", "value": {"k": [1, null]}}]})json");
  ASSERT_TRUE(defs.ok()) << defs.error().text;
  broker::Broker broker;
  auth::AuthStore auth;
  ASSERT_TRUE(broker.set_global_parameter("cluster_name", "\"before\"").ok());
  ASSERT_TRUE(apply_definitions(*defs, broker, auth).ok());
  EXPECT_EQ(broker.global_parameters().cluster_name(), "imported");
  ASSERT_NE(broker.global_parameters().find("other"), nullptr);
  EXPECT_EQ(*broker.global_parameters().find("other"), R"({"k":[1,null]})");

  auto bad = parse_definitions(R"json({"global_parameters": [
      {"name": "cluster_name", "value": 5}]})json");
  ASSERT_TRUE(bad.ok()) << bad.error().text;
  auto s = apply_definitions(*bad, broker, auth);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().text.find("'cluster_name'"), std::string::npos) << s.error().text;
  EXPECT_EQ(broker.global_parameters().cluster_name(), "imported");
}

}  // namespace
}  // namespace pulse::app
