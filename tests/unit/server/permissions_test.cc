// Permission refusals as a client sees them: channel-level 403 ACCESS_REFUSED with RabbitMQ's
// texts, the connection staying usable (tests/integration/test_auth.py). The restricted user
// (server_fixture.h) may configure "alice.*", write "alice.*" and the default exchange, and
// read "alice.*".
#include <string>

#include "server_fixture.h"

namespace pulse::server::testing {
namespace {

std::string refused(const std::string& kind, const std::string& name) {
  return "ACCESS_REFUSED - access to " + kind + " '" + name + "' in vhost '/' refused for user '" +
         kAlice + "'";
}

class AsAlice : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ch->queue_declare("guest.q").ok());  // guest's, with one message
    fill(*ch, "guest.q", 1);
    alice = connect(kAlice, kAlicePassword);
    ASSERT_NE(alice, nullptr);
    ac = open_channel(*alice);
    ASSERT_NE(ac, nullptr);
  }
  // A fresh channel of alice's connection after a refusal closed the previous one; the
  // connection itself must have survived it.
  void reopen() {
    EXPECT_TRUE(alice->is_open());
    EXPECT_TRUE(ac->close());
    ac = open_channel(*alice);
    ASSERT_NE(ac, nullptr);
  }
  Connection* alice = nullptr;
  Channel* ac = nullptr;
};

TEST_F(AsAlice, ConfigureIsCheckedOnQueueDeclare) {
  EXPECT_TRUE(failed_with(ac->queue_declare("other.q"), 403, refused("queue", "other.q")));
  reopen();
  client::QueueOptions o;
  o.auto_delete = true;
  auto own = ac->queue_declare("alice.q", o);
  EXPECT_TRUE(own.ok()) << own.error().text;
}

TEST_F(AsAlice, ServerNamedQueuesAreNotHers) {
  client::QueueOptions o;
  o.exclusive = true;
  auto q = ac->queue_declare("", o);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code, 403);
  EXPECT_TRUE(q.error().text.starts_with("ACCESS_REFUSED - access to queue 'amq.gen-"))
      << q.error().text;
  EXPECT_TRUE(q.error().text.ends_with("' in vhost '/' refused for user 'alice'"))
      << q.error().text;
  EXPECT_TRUE(alice->is_open());
}

TEST_F(AsAlice, ConfigureIsCheckedBeforeExistenceOnDelete) {
  EXPECT_TRUE(failed_with(ac->queue_delete("guest.q"), 403, refused("queue", "guest.q")));
  reopen();
  EXPECT_TRUE(failed_with(ac->queue_delete("missing.q"), 403, refused("queue", "missing.q")));
  EXPECT_EQ(ready(*ch, "guest.q"), 1u);  // guest's queue survived
}

TEST_F(AsAlice, ConfigureIsCheckedOnExchangeDeclare) {
  EXPECT_TRUE(
      failed_with(ac->exchange_declare("other.x", "direct"), 403, refused("exchange", "other.x")));
  reopen();
  EXPECT_TRUE(ac->exchange_declare("alice.x", "direct"));
  EXPECT_TRUE(ac->exchange_delete("alice.x"));
}

TEST_F(AsAlice, PassiveDeclaresNeedNoPermission) {
  EXPECT_EQ(ready(*ac, "guest.q"), 1u);
  client::ExchangeOptions passive;
  passive.passive = true;
  EXPECT_TRUE(ac->exchange_declare("amq.topic", "topic", passive));
}

TEST_F(AsAlice, ReadIsCheckedOnGetConsumeAndPurge) {
  EXPECT_TRUE(failed_with(ac->get("guest.q"), 403, refused("queue", "guest.q")));
  reopen();
  EXPECT_TRUE(
      failed_with(ac->consume("guest.q", ignore_delivery), 403, refused("queue", "guest.q")));
  reopen();
  EXPECT_TRUE(failed_with(ac->queue_purge("guest.q"), 403, refused("queue", "guest.q")));
  EXPECT_EQ(ready(*ch, "guest.q"), 1u);
}

TEST_F(AsAlice, WriteIsCheckedOnPublish) {
  ASSERT_TRUE(ac->queue_declare("alice.q").ok());
  // The default exchange is hers to write to: the message arrives.
  ASSERT_TRUE(ac->publish("", "alice.q", "mine").ok());
  EXPECT_EQ(ready(*ac, "alice.q"), 1u);
  // amq.direct is not: publish is asynchronous, so the refusal closes the channel under the
  // next synchronous call.
  ASSERT_TRUE(ac->publish("amq.direct", "alice.q", "x").ok());
  EXPECT_TRUE(failed_with(ac->qos(1), 403, refused("exchange", "amq.direct")));
  ASSERT_NE(ac->error(), nullptr);
  EXPECT_EQ(ac->error()->class_id, 60);  // basic.publish
  EXPECT_EQ(ac->error()->method_id, 40);
  reopen();
  EXPECT_EQ(ready(*ac, "alice.q"), 1u);
}

TEST_F(AsAlice, BindNeedsWriteOnTheQueueThenReadOnTheExchange) {
  EXPECT_TRUE(
      failed_with(ac->queue_bind("guest.q", "amq.direct", "k"), 403, refused("queue", "guest.q")));
  reopen();
  ASSERT_TRUE(ac->queue_declare("alice.q").ok());
  EXPECT_TRUE(failed_with(ac->queue_bind("alice.q", "amq.direct", "k"), 403,
                          refused("exchange", "amq.direct")));
}

}  // namespace
}  // namespace pulse::server::testing
