// Strict namespaces' naming rule and texts (auth/namespace_policy.h).
#include "auth/namespace_policy.h"

#include <gtest/gtest.h>

namespace pulse::auth {
namespace {

using K = NamespaceKind;
using A = NamespaceAction;

TEST(NamespacePolicy, OwnNamespaceOnly) {
  EXPECT_TRUE(in_namespace("alice", K::kExchange, "exchange/alice/x"));
  EXPECT_TRUE(in_namespace("alice", K::kExchange, "exchange/alice/a/b"));
  EXPECT_TRUE(in_namespace("alice", K::kQueue, "queue/alice/q"));
  EXPECT_TRUE(in_namespace("a.b-c", K::kQueue, "queue/a.b-c/q"));
  // The kind must match the prefix.
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "exchange/alice/x"));
  EXPECT_FALSE(in_namespace("alice", K::kExchange, "queue/alice/q"));
  // Someone else's, a longer or shorter owner, no name after the owner, no owner.
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "queue/bob/q"));
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "queue/alice2/q"));
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "queue/alic/q"));
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "queue/alice/"));
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "queue/alice"));
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "queue//q"));
  // Server-named and reserved names are in no namespace.
  EXPECT_FALSE(in_namespace("alice", K::kQueue, "amq.gen-abc"));
  EXPECT_FALSE(in_namespace("alice", K::kExchange, "amq.topic"));
  EXPECT_FALSE(in_namespace("alice", K::kExchange, ""));
  // A user name holding '/' owns nothing (else "a/b" would own part of a's namespace).
  EXPECT_FALSE(in_namespace("a/b", K::kQueue, "queue/a/b/q"));
  EXPECT_FALSE(in_namespace("", K::kQueue, "queue//q"));
}

TEST(NamespacePolicy, RefusalTexts) {
  auto s = check_namespace("alice", K::kQueue, "queue/bob/q", A::kDeclare);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 403);
  EXPECT_EQ(s.error().text,
            "ACCESS_REFUSED - user 'alice' may only declare queues under 'queue/alice/' "
            "(pulse.namespaces.strict)");
  EXPECT_TRUE(is_namespace_refusal(s.error()));
  EXPECT_EQ(check_namespace("alice", K::kExchange, "exchange/bob/x", A::kDelete).error().text,
            "ACCESS_REFUSED - user 'alice' may only delete exchanges under 'exchange/alice/' "
            "(pulse.namespaces.strict)");
  EXPECT_EQ(check_namespace("alice", K::kExchange, "amq.topic", A::kBind).error().text,
            "ACCESS_REFUSED - user 'alice' may only bind to exchanges under 'exchange/alice/' "
            "(pulse.namespaces.strict)");
  EXPECT_TRUE(check_namespace("alice", K::kQueue, "queue/alice/q", A::kDelete).ok());
}

TEST(NamespacePolicy, ExchangesAreDurableTopics) {
  EXPECT_TRUE(check_namespace_exchange("exchange/alice/t", "/", "topic", true).ok());
  auto fanout = check_namespace_exchange("exchange/alice/f", "/", "fanout", true);
  ASSERT_FALSE(fanout.ok());
  EXPECT_EQ(fanout.error().code, 406);
  EXPECT_EQ(fanout.error().text,
            "PRECONDITION_FAILED - exchange 'exchange/alice/f' in vhost '/' must be a durable "
            "topic exchange, not a durable fanout one (pulse.namespaces.strict)");
  EXPECT_TRUE(is_namespace_refusal(fanout.error()));
  EXPECT_EQ(check_namespace_exchange("exchange/alice/t", "v", "topic", false).error().text,
            "PRECONDITION_FAILED - exchange 'exchange/alice/t' in vhost 'v' must be a durable "
            "topic exchange, not a non-durable topic one (pulse.namespaces.strict)");
}

TEST(NamespacePolicy, OtherRefusalsAreNotNamespaceOnes) {
  EXPECT_FALSE(is_namespace_refusal(
      Error{403, "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'u'"}));
  EXPECT_FALSE(is_namespace_refusal(Error{404, "NOT_FOUND - x (pulse.namespaces.strict)"}));
}

}  // namespace
}  // namespace pulse::auth
