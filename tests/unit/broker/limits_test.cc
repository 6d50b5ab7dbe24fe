// Vhost and user limits (broker/limits.h): validation with RabbitMQ 3.10's texts, the order in
// which a vhost keeps its limits, and the refusals of each check, including queue.declare
// through the client-facing operation.
#include "broker/limits.h"

#include <gtest/gtest.h>

#include "auth/auth_store.h"
#include "broker/operations.h"
#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

FieldValue object(FieldTable t) {
  return FieldValue(std::move(t));
}

TEST(LimitValidation, AcceptsKnownIntegerLimits) {
  EXPECT_TRUE(limit_errors(LimitKind::kVhost, object({{"max-connections", FieldValue(int64_t{3})},
                                                      {"max-queues", FieldValue(int64_t{-1})}}))
                  .empty());
  EXPECT_TRUE(
      limit_errors(LimitKind::kUser, object({{"max-channels", FieldValue(int64_t{0})}})).empty());
  // JSON [] is RabbitMQ's empty proplist.
  EXPECT_TRUE(limit_errors(LimitKind::kVhost, FieldValue(amqp::FieldArray{})).empty());
  auto l = limit_list(object(
      {{"max-queues", FieldValue(int64_t{5})}, {"max-connections", FieldValue(int64_t{7})}}));
  EXPECT_EQ(l, (LimitList{{"max-queues", 5}, {"max-connections", 7}}));
}

TEST(LimitValidation, RabbitMQTexts) {
  auto one = [](LimitKind k, const char* name, FieldValue v) {
    auto e = limit_errors(k, object({{name, std::move(v)}}));
    return e.size() == 1 ? e[0] : "<" + std::to_string(e.size()) + " errors>";
  };
  EXPECT_EQ(one(LimitKind::kVhost, "max-queues", FieldValue(std::string("3"))),
            "max-queues should be a number, actually was <<\"3\">>");
  EXPECT_EQ(one(LimitKind::kVhost, "max-queues", FieldValue(1.5)),
            "max-queues should be a number, actually was 1.5");
  EXPECT_EQ(one(LimitKind::kVhost, "max-queues", FieldValue(1000.0)),
            "max-queues should be a number, actually was 1.0e3");
  EXPECT_EQ(one(LimitKind::kVhost, "max-queues", FieldValue(true)),
            "max-queues should be a number, actually was true");
  EXPECT_EQ(one(LimitKind::kVhost, "foo", FieldValue(int64_t{3})),
            "Unrecognised terms [{<<\"foo\">>,3}] in limits");
  EXPECT_EQ(one(LimitKind::kUser, "max-queues", FieldValue(int64_t{3})),
            "Unrecognised terms [{<<\"max-queues\">>,3}] in user-limits");
  EXPECT_EQ(one(LimitKind::kUser, "max-channels", FieldValue(std::string("x"))),
            "max-channels should be a number, actually was <<\"x\">>");
  EXPECT_EQ(limit_errors(LimitKind::kVhost, FieldValue(int64_t{5})),
            std::vector<std::string>{"limits not a list 5"});
  // Several: the unrecognised ones first, then the values, last known name first.
  auto many =
      limit_errors(LimitKind::kVhost, object({{"max-connections", FieldValue(std::string("a"))},
                                              {"zz", FieldValue(int64_t{1})},
                                              {"max-queues", FieldValue(std::string("b"))}}));
  EXPECT_EQ(many, (std::vector<std::string>{
                      "Unrecognised terms [{<<\"zz\">>,1}] in limits",
                      "max-queues should be a number, actually was <<\"b\">>",
                      "max-connections should be a number, actually was <<\"a\">>"}));
  EXPECT_EQ(validation_failed_text({"a", "b"}), "Validation failed\n\na\nb\n");
}

TEST(LimitValues, NegativeAndAbsentAreNoLimit) {
  LimitList l{{"max-queues", -1}, {"max-connections", 0}};
  EXPECT_EQ(limit_in_force(l, kMaxQueues), std::nullopt);
  EXPECT_EQ(limit_in_force(l, kMaxConnections), std::optional<int64_t>(0));
  std::map<std::string, int64_t> m{{"max-channels", 4}};
  EXPECT_EQ(limit_in_force(m, kMaxChannels), std::optional<int64_t>(4));
  EXPECT_EQ(limit_in_force(m, kMaxConnections), std::nullopt);
}

using LimitsTest = BrokerTest;

TEST_F(LimitsTest, VhostKeepsLimitsNewestFirstAndAnEmptyParameter) {
  EXPECT_FALSE(vh.limits().has_value());
  vh.set_limit("max-connections", 2);
  vh.set_limit("max-queues", -1);
  EXPECT_EQ(*vh.limits(), (LimitList{{"max-queues", -1}, {"max-connections", 2}}));
  vh.set_limit("max-connections", 3);
  EXPECT_EQ(*vh.limits(), (LimitList{{"max-connections", 3}, {"max-queues", -1}}));
  vh.clear_limit("max-connections");
  vh.clear_limit("max-queues");
  ASSERT_TRUE(vh.limits().has_value());
  EXPECT_TRUE(vh.limits()->empty());
  vh.set_limits(std::nullopt);
  EXPECT_FALSE(vh.limits().has_value());
}

TEST_F(LimitsTest, ConnectionAndChannelChecks) {
  size_t counted = 0;
  auto count = [&](size_t n) {
    return [&counted, n] {
      ++counted;
      return n;
    };
  };
  EXPECT_TRUE(check_vhost_connection_limit(vh, "u", count(100)).ok());
  EXPECT_EQ(counted, 0u);  // no limit: nothing counted
  vh.set_limit("max-connections", 2);
  EXPECT_TRUE(check_vhost_connection_limit(vh, "u", count(1)).ok());
  auto s = check_vhost_connection_limit(vh, "u", count(2));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 530);
  EXPECT_EQ(s.error().text,
            "NOT_ALLOWED - access to vhost '/' refused for user 'u': connection limit (2) is "
            "reached");
  vh.set_limit("max-connections", 0);
  counted = 0;
  EXPECT_FALSE(check_vhost_connection_limit(vh, "u", count(0)).ok());
  EXPECT_EQ(counted, 0u);  // 0 refuses without counting
  vh.set_limit("max-connections", -1);
  EXPECT_TRUE(check_vhost_connection_limit(vh, "u", count(1000)).ok());

  auth::User u;
  u.name = "bob";
  EXPECT_TRUE(check_user_connection_limit(u, count(5)).ok());
  u.limits["max-connections"] = 1;
  u.limits["max-channels"] = 3;
  s = check_user_connection_limit(u, count(1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().text,
            "NOT_ALLOWED - connection refused for user 'bob': user connection limit (1) is "
            "reached");
  EXPECT_TRUE(check_user_channel_limit(u, count(2)).ok());
  s = check_user_channel_limit(u, count(3));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 530);
  EXPECT_EQ(s.error().text,
            "NOT_ALLOWED - number of channels opened for user 'bob' has reached the maximum "
            "allowed user limit of (3)");
}

TEST_F(LimitsTest, QueueDeclarePastMaxQueues) {
  auth::AuthStore auth;
  ASSERT_TRUE(auth.add_user("admin", "pw", {"administrator"}).ok());
  ASSERT_TRUE(auth.set_permissions("admin", "/", ".*", ".*", ".*").ok());
  Principal p(auth, "admin", vh, kConn);
  auto decl = [&](const std::string& name, bool passive = false) {
    QueueDeclare d;
    d.name = name;
    d.passive = passive;
    return ops::declare_queue(p, std::move(d));
  };
  vh.set_limit("max-queues", 1);
  ASSERT_TRUE(decl("q1").ok());
  auto r = decl("q2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 406);
  EXPECT_EQ(r.error().text,
            "PRECONDITION_FAILED - cannot declare queue 'q2': queue limit in vhost '/' (1) is "
            "reached");
  EXPECT_TRUE(decl("q1").ok());  // an existing queue is not a new one
  EXPECT_EQ(decl("q2", /*passive=*/true).error().code, 404);
  r = decl("amq.q");  // the reserved-name check comes first
  EXPECT_EQ(r.error().code, 403);
  r = decl("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().text.rfind("PRECONDITION_FAILED - cannot declare queue 'amq.gen-", 0), 0u);
  vh.clear_limit("max-queues");
  EXPECT_TRUE(decl("q2").ok());
}

}  // namespace
}  // namespace pulse::broker::testing
