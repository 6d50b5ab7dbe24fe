// Strict namespaces (pulse.namespaces.strict) through the client-facing operations, the one
// place AMQP and the management API both call: a user whose permission regexes were loosened
// to .* still only creates, deletes and binds to its own names; administrators are exempt;
// passive declares and publishing are untouched; off, everything is RabbitMQ's.
#include <gtest/gtest.h>

#include "broker/operations.h"
#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

template <typename R>
Error refusal_of(const R& r) {
  return r.ok() ? Error{0, "<ok>"} : r.error();
}

std::string outside(const char* verb, const char* what, const char* prefix) {
  return std::string("ACCESS_REFUSED - user 'alice' may only ") + verb + what + " under '" +
         prefix + "alice/' (pulse.namespaces.strict)";
}

class NamespaceOpsTest : public BrokerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(auth.add_user("admin", "pw", {"administrator"}).ok());
    ASSERT_TRUE(auth.set_permissions("admin", "/", ".*", ".*", ".*").ok());
    // Loosened by hand: the reference's regexes would refuse most of this already.
    ASSERT_TRUE(auth.add_user("alice", "pw", {"management"}).ok());
    ASSERT_TRUE(auth.set_permissions("alice", "/", ".*", ".*", ".*").ok());
    auth.set_strict_namespaces(true);
    ExchangeDeclare bx = xd("exchange/bob/x", "topic");
    ASSERT_TRUE(vh.declare_exchange(bx).ok());
    declare("queue/bob/q");
  }

  Principal as(const std::string& user) { return Principal(auth, user, vh, kConn); }

  static ExchangeDeclare xd(std::string name, std::string type, bool durable = true) {
    ExchangeDeclare d;
    d.name = std::move(name);
    d.type = std::move(type);
    d.durable = durable;
    return d;
  }
  static QueueDeclare qd(std::string name, bool passive = false) {
    QueueDeclare d;
    d.name = std::move(name);
    d.passive = passive;
    return d;
  }

  auth::AuthStore auth;
};

TEST_F(NamespaceOpsTest, DeclaresOutsideTheNamespaceAreRefused) {
  Principal alice = as("alice");
  auto q = refusal_of(ops::declare_queue(alice, qd("queue/bob/q2")));
  EXPECT_EQ(q.code, 403);
  EXPECT_EQ(q.text, outside("declare ", "queues", "queue/"));
  EXPECT_EQ(refusal_of(ops::declare_queue(alice, qd("plain"))).text, q.text);
  // Server-named queues are in no namespace.
  EXPECT_EQ(refusal_of(ops::declare_queue(alice, qd(""))).text, q.text);
  auto x = refusal_of(ops::declare_exchange(alice, xd("exchange/bob/y", "topic")));
  EXPECT_EQ(x.code, 403);
  EXPECT_EQ(x.text, outside("declare ", "exchanges", "exchange/"));
  // Redeclaring an existing one is a declare too.
  EXPECT_EQ(refusal_of(ops::declare_exchange(alice, xd("exchange/bob/x", "topic"))).text, x.text);
  EXPECT_EQ(vh.find_queue("queue/bob/q2"), nullptr);
  EXPECT_EQ(vh.find_exchange("exchange/bob/y"), nullptr);
}

TEST_F(NamespaceOpsTest, OwnExchangesMustBeDurableTopics) {
  Principal alice = as("alice");
  auto fanout = refusal_of(ops::declare_exchange(alice, xd("exchange/alice/fanout-one", "fanout")));
  EXPECT_EQ(fanout.code, 406);
  EXPECT_EQ(fanout.text,
            "PRECONDITION_FAILED - exchange 'exchange/alice/fanout-one' in vhost '/' must be a "
            "durable topic exchange, not a durable fanout one (pulse.namespaces.strict)");
  auto transient = refusal_of(ops::declare_exchange(alice, xd("exchange/alice/t", "topic", false)));
  EXPECT_EQ(transient.code, 406);
  EXPECT_EQ(vh.find_exchange("exchange/alice/t"), nullptr);
  EXPECT_TRUE(ops::declare_exchange(alice, xd("exchange/alice/t", "topic")).ok());
  EXPECT_NE(vh.find_exchange("exchange/alice/t"), nullptr);
  EXPECT_TRUE(ops::declare_queue(alice, qd("queue/alice/q")).ok());
}

TEST_F(NamespaceOpsTest, PassiveDeclaresAndBindingToOthersExchangesStayAllowed) {
  Principal alice = as("alice");
  ExchangeDeclare passive = xd("exchange/bob/x", "");
  passive.passive = true;
  EXPECT_TRUE(ops::declare_exchange(alice, passive).ok());
  EXPECT_TRUE(ops::declare_queue(alice, qd("queue/bob/q", true)).ok());
  ASSERT_TRUE(ops::declare_queue(alice, qd("queue/alice/q")).ok());
  // Reading bob's exchange through her own queue is what Pulse is for.
  EXPECT_TRUE(
      ops::bind(alice, "exchange/bob/x", Destination{false, "queue/alice/q"}, "#", {}).ok());
  EXPECT_TRUE(
      ops::unbind(alice, "exchange/bob/x", Destination{false, "queue/alice/q"}, "#", {}).ok());
  // But the destination must be hers.
  EXPECT_EQ(
      ops::bind(alice, "exchange/bob/x", Destination{false, "queue/bob/q"}, "#", {}).error().text,
      outside("bind to ", "queues", "queue/"));
  EXPECT_EQ(
      ops::bind(alice, "amq.topic", Destination{true, "exchange/bob/x"}, "#", {}).error().text,
      outside("bind to ", "exchanges", "exchange/"));
  // Publishing is governed by write permissions only.
  Principal p = as("alice");
  auto m = std::make_shared<Message>(make("exchange/bob/x", "k", "body"));
  EXPECT_TRUE(ops::publish(p, m).ok());
}

TEST_F(NamespaceOpsTest, DeletesOnlyInTheNamespace) {
  Principal alice = as("alice");
  EXPECT_EQ(ops::delete_queue(alice, "queue/bob/q", false, false).error().text,
            outside("delete ", "queues", "queue/"));
  EXPECT_EQ(ops::delete_exchange(alice, "exchange/bob/x", false).error().text,
            outside("delete ", "exchanges", "exchange/"));
  EXPECT_NE(vh.find_queue("queue/bob/q"), nullptr);
  EXPECT_NE(vh.find_exchange("exchange/bob/x"), nullptr);
  ASSERT_TRUE(ops::declare_queue(alice, qd("queue/alice/q")).ok());
  EXPECT_TRUE(ops::delete_queue(alice, "queue/alice/q", false, false).ok());
}

TEST_F(NamespaceOpsTest, AdministratorsAreExempt) {
  Principal admin = as("admin");
  EXPECT_TRUE(ops::declare_exchange(admin, xd("exchange/bob/f", "fanout", false)).ok());
  EXPECT_TRUE(ops::declare_queue(admin, qd("")).ok());
  EXPECT_TRUE(ops::delete_queue(admin, "queue/bob/q", false, false).ok());
  // The tag is looked up at each check: a user made administrator is exempt at once.
  ASSERT_TRUE(auth.set_tags("alice", {"administrator"}).ok());
  Principal alice = as("alice");
  EXPECT_TRUE(ops::declare_queue(alice, qd("queue/bob/q3")).ok());
}

TEST_F(NamespaceOpsTest, OffMeansRabbitMqRules) {
  auth.set_strict_namespaces(false);
  Principal alice = as("alice");
  EXPECT_TRUE(ops::declare_queue(alice, qd("queue/bob/q2")).ok());
  EXPECT_TRUE(ops::declare_exchange(alice, xd("exchange/alice/f", "fanout", false)).ok());
  EXPECT_TRUE(ops::delete_exchange(alice, "exchange/bob/x", false).ok());
}

// A claimed namespace's rotating users ("ns-1", "ns-2") carry the tag pulse-namespace:ns and
// work in exchange/ns/ and queue/ns/, not under their own names.
TEST_F(NamespaceOpsTest, ANamespaceTagBindsTheUserToThatNamespace) {
  ASSERT_TRUE(auth.add_user("team-1", "pw", {"pulse-namespace:team"}).ok());
  ASSERT_TRUE(auth.set_permissions("team-1", "/", ".*", ".*", ".*").ok());
  Principal u = as("team-1");
  EXPECT_TRUE(ops::declare_queue(u, qd("queue/team/q")).ok());
  EXPECT_TRUE(ops::declare_exchange(u, xd("exchange/team/x", "topic")).ok());
  auto q = refusal_of(ops::declare_queue(u, qd("queue/team-1/q")));
  EXPECT_EQ(q.code, 403);
  EXPECT_EQ(q.text,
            "ACCESS_REFUSED - user 'team-1' may only declare queues under 'queue/team/' "
            "(pulse.namespaces.strict)");
  EXPECT_EQ(refusal_of(ops::declare_exchange(u, xd("exchange/bob/y", "topic"))).code, 403);
}

}  // namespace
}  // namespace pulse::broker::testing
