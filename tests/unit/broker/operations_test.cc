// The client-facing broker operations (broker/operations.h): each rule with RabbitMQ's exact
// reply code and text, checked in RabbitMQ's order, against a real auth store.
#include "broker/operations.h"

#include <gtest/gtest.h>

#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

using auth::Access;

template <typename R>
Error error_of(const R& r) {
  return r.ok() ? Error{0, "<ok>"} : r.error();
}

std::string refused(const char* kind, const std::string& name, const std::string& user) {
  return "ACCESS_REFUSED - access to " + std::string(kind) + " '" + name +
         "' in vhost '/' refused for user '" + user + "'";
}

class OperationsTest : public BrokerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(auth.add_user("admin", "pw", {"administrator"}).ok());
    ASSERT_TRUE(auth.set_permissions("admin", "/", ".*", ".*", ".*").ok());
    // alice configures and writes alice.* (and the default exchange), reads everything, and
    // may only use alice.* keys on amq.topic (which it may write to).
    ASSERT_TRUE(auth.add_user("alice", "pw", {}).ok());
    ASSERT_TRUE(auth.set_permissions("alice", "/", "^alice\\.",
                                     "^(alice\\..*|amq\\.default|amq\\.topic)$", ".*")
                    .ok());
    ASSERT_TRUE(
        auth.set_topic_permissions("alice", "/", "amq.topic", "^alice\\.", "^alice\\.").ok());
    ASSERT_TRUE(auth.add_user("imp", "pw", {"impersonator"}).ok());
    ASSERT_TRUE(auth.set_permissions("imp", "/", ".*", ".*", ".*").ok());
    declare("q");
    exchange("x", "direct");
    exchange("ix", "fanout", {}, false, /*internal=*/true);
  }

  Principal as(const std::string& user, uint64_t conn = kConn) {
    return Principal(auth, user, vh, conn);
  }

  static std::shared_ptr<Message> msg(const std::string& x, const std::string& key,
                                      amqp::BasicProperties p = {}) {
    return std::make_shared<Message>(make(x, key, "body", std::move(p)));
  }

  Error publish_error(const std::string& user, std::shared_ptr<Message> m,
                      std::string_view token = {}) {
    Principal p = as(user);
    return error_of(ops::publish(p, m, token));
  }

  auth::AuthStore auth;
};

// ------------------------------------------------------------------------------- publish

TEST_F(OperationsTest, PublishRoutesAndEnqueues) {
  Principal p = as("admin");
  auto r = ops::publish(p, msg("", "q"));
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->routed, 1u);
  EXPECT_EQ(vh.find_queue("q")->message_count(), 1u);
}

TEST_F(OperationsTest, PublishRefusals) {
  struct Case {
    const char* user;
    std::shared_ptr<Message> m;
    uint16_t code;
    std::string text;
  };
  auto props = [](auto set) {
    amqp::BasicProperties p;
    set(p);
    return p;
  };
  const Case cases[] = {
      {"alice", msg("x", "k"), 403, refused("exchange", "x", "alice")},
      // The default exchange's permission name is amq.default.
      {"bob-unknown", msg("", "q"), 403, refused("exchange", "amq.default", "bob-unknown")},
      // Permission comes before existence.
      {"alice", msg("nope", "k"), 403, refused("exchange", "nope", "alice")},
      {"admin", msg("nope", "k"), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'"},
      {"admin", msg("ix", "k"), 403,
       "ACCESS_REFUSED - cannot publish to internal exchange 'ix' in vhost '/'"},
      {"alice", msg("alice.x", "k"), 404, "NOT_FOUND - no exchange 'alice.x' in vhost '/'"},
      {"admin", msg("", "q", props([](auto& p) { p.set_user_id("bob"); })), 406,
       "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'admin'"},
      {"admin", msg("", "q", props([](auto& p) { p.set_expiration("abc"); })), 406,
       "PRECONDITION_FAILED - invalid expiration 'abc': no_integer"},
      {"admin", msg("", "q", props([](auto& p) { p.set_expiration("12x"); })), 406,
       "PRECONDITION_FAILED - invalid expiration '12x': {leftover_string,\"x\"}"},
      {"admin", msg("", "q", props([](auto& p) { p.set_expiration("-5"); })), 406,
       "PRECONDITION_FAILED - invalid expiration '-5': {value_negative,-5}"},
      {"admin", msg("", "q", props([](auto& p) {
                      p.set_headers({{"CC", "q"}});
                    })),
       406, "PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"CC\",longstr}"},
      {"admin", msg("", "q", props([](auto& p) {
                      p.set_headers({{"BCC", int32_t{1}}});
                    })),
       406,
       "PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"BCC\",signedint}"},
      {"admin", msg("", "q", props([](auto& p) { p.set_reply_to("amq.rabbitmq.reply-to"); })), 406,
       "PRECONDITION_FAILED - fast reply consumer does not exist"},
  };
  for (const auto& c : cases) {
    Error e = publish_error(c.user, c.m);
    EXPECT_EQ(e.code, c.code) << c.text;
    EXPECT_EQ(e.text, c.text);
  }
  EXPECT_EQ(vh.find_queue("q")->message_count(), 0u);
}

TEST_F(OperationsTest, PublishTopicPermissionOnTopicExchangesOnly) {
  EXPECT_EQ(publish_error("alice", msg("amq.topic", "bob.news")).text,
            "ACCESS_REFUSED - access to topic 'bob.news' in exchange 'amq.topic' in vhost '/' "
            "refused for user 'alice'");
  EXPECT_EQ(publish_error("alice", msg("amq.topic", "alice.news")).code, 0);
  ASSERT_NE(exchange("alice.d", "direct"), nullptr);
  ASSERT_TRUE(auth.set_topic_permissions("alice", "/", "alice.d", "^never$", "^never$").ok());
  EXPECT_EQ(publish_error("alice", msg("alice.d", "bob.news")).code, 0);
}

TEST_F(OperationsTest, PublishUserIdMayBeAnyoneForImpersonators) {
  amqp::BasicProperties p;
  p.set_user_id("someone-else");
  EXPECT_EQ(publish_error("imp", msg("", "q", p)).code, 0);
  p.set_user_id("admin");
  EXPECT_EQ(publish_error("admin", msg("", "q", p)).code, 0);
}

TEST_F(OperationsTest, PublishRewritesDirectReplyTo) {
  amqp::BasicProperties p;
  p.set_reply_to("amq.rabbitmq.reply-to");
  auto m = msg("", "q", p);
  Principal who = as("admin");
  auto x = ops::check_publish(who, *m, "tok");
  ASSERT_TRUE(x.ok()) << x.error().text;
  EXPECT_EQ((*x)->name(), "");
  EXPECT_EQ(m->properties().reply_to, "amq.rabbitmq.reply-to.tok");
  EXPECT_EQ(decode_raw(*m).reply_to, "amq.rabbitmq.reply-to.tok");
}

TEST_F(OperationsTest, GrantsAreCachedPerPrincipal) {
  Principal kept = as("alice");
  ASSERT_TRUE(ops::publish(kept, msg("", "q")).ok());
  auth.clear_permissions("alice", "/");
  // As RabbitMQ's channel: a granted check stays granted for the principal's life.
  EXPECT_TRUE(ops::publish(kept, msg("", "q")).ok());
  EXPECT_EQ(publish_error("alice", msg("", "q")).text, refused("exchange", "amq.default", "alice"));
  // A queue and an exchange of the same name are distinct grants.
  ASSERT_TRUE(auth.set_permissions("alice", "/", "", "^z$", "").ok());
  Principal fresh = as("alice");
  EXPECT_TRUE(fresh.check(Resource::kExchange, "z", Access::kWrite).ok());
  EXPECT_EQ(fresh.check(Resource::kQueue, "z", Access::kRead).error().text,
            refused("queue", "z", "alice"));
}

// ------------------------------------------------------------------------------ exchanges

TEST_F(OperationsTest, DeclareExchangeRules) {
  auto declare_as = [&](const std::string& user, ExchangeDeclare d) {
    Principal p = as(user);
    return error_of(ops::declare_exchange(p, d));
  };
  auto xd = [](std::string name, std::string type = "direct") {
    ExchangeDeclare d;
    d.name = std::move(name);
    d.type = std::move(type);
    return d;
  };
  struct Case {
    const char* user;
    ExchangeDeclare d;
    uint16_t code;
    std::string text;
  };
  ExchangeDeclare passive_missing = xd("nope");
  passive_missing.passive = true;
  ExchangeDeclare passive_default = xd("");
  passive_default.passive = true;
  ExchangeDeclare ae_int = xd("alice.ae1");
  ae_int.arguments = {{"alternate-exchange", int32_t{5}}};
  ExchangeDeclare ae_x = xd("alice.ae2");
  ae_x.arguments = {{"alternate-exchange", std::string("x")}};
  const Case cases[] = {
      {"admin", xd(""), 403, "ACCESS_REFUSED - operation not permitted on the default exchange"},
      {"admin", passive_default, 403,
       "ACCESS_REFUSED - operation not permitted on the default exchange"},
      {"admin", passive_missing, 404, "NOT_FOUND - no exchange 'nope' in vhost '/'"},
      // The type is checked before the permission.
      {"alice", xd("bob.x", "bogus"), 503, "COMMAND_INVALID - unknown exchange type 'bogus'"},
      {"alice", xd("bob.x"), 403, refused("exchange", "bob.x", "alice")},
      {"admin", xd("amq.new"), 403,
       "ACCESS_REFUSED - exchange name 'amq.new' contains reserved prefix 'amq.*'"},
      {"admin", xd("x", "fanout"), 406,
       "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': received "
       "'fanout' but current is 'direct'"},
      {"alice", ae_int, 406,
       "PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange "
       "'alice.ae1' in vhost '/'"},
      // Declaring with an alternate exchange needs write on it.
      {"alice", ae_x, 403, refused("exchange", "x", "alice")},
  };
  for (const auto& c : cases) {
    Error e = declare_as(c.user, c.d);
    EXPECT_EQ(e.code, c.code) << c.text;
    EXPECT_EQ(e.text, c.text);
  }
  // Redeclaring a built-in exchange is fine; a passive declare needs no permission.
  ExchangeDeclare builtin = xd("amq.direct");
  builtin.durable = true;
  EXPECT_EQ(declare_as("admin", builtin).code, 0);
  ExchangeDeclare passive_x = xd("x");
  passive_x.passive = true;
  EXPECT_EQ(declare_as("nobody", passive_x).code, 0);
  EXPECT_EQ(declare_as("alice", xd("alice.x", "topic")).code, 0);
  EXPECT_NE(vh.find_exchange("alice.x"), nullptr);
}

TEST_F(OperationsTest, DeleteExchangeRules) {
  Principal admin = as("admin"), alice = as("alice");
  EXPECT_EQ(ops::delete_exchange(admin, "", false).error().text,
            "ACCESS_REFUSED - operation not permitted on the default exchange");
  EXPECT_EQ(ops::delete_exchange(admin, "amq.fanout", false).error().text,
            "ACCESS_REFUSED - deletion of system exchange 'amq.fanout' in vhost '/' not allowed");
  EXPECT_EQ(ops::delete_exchange(alice, "x", false).error().text,
            refused("exchange", "x", "alice"));
  bind("q", "x", "k");
  auto in_use = ops::delete_exchange(admin, "x", true);
  EXPECT_EQ(in_use.error().code, 406);
  EXPECT_EQ(in_use.error().text, "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use");
  EXPECT_TRUE(ops::delete_exchange(admin, "x", false).ok());
  EXPECT_EQ(vh.find_exchange("x"), nullptr);
  // Deleting what is not there succeeds, as in RabbitMQ.
  EXPECT_TRUE(ops::delete_exchange(admin, "x", false).ok());
}

// --------------------------------------------------------------------------------- queues

TEST_F(OperationsTest, DeclareQueueRules) {
  Principal admin = as("admin"), alice = as("alice");
  auto qd = [](std::string name) {
    QueueDeclare d;
    d.name = std::move(name);
    return d;
  };
  // Reserved names are refused even for an existing queue, and before the permission.
  auto gen = ops::declare_queue(admin, qd(""));
  ASSERT_TRUE(gen.ok());
  EXPECT_TRUE((*gen)->name().starts_with("amq.gen-"));
  EXPECT_EQ(
      error_of(ops::declare_queue(alice, qd((*gen)->name()))).text,
      "ACCESS_REFUSED - queue name '" + (*gen)->name() + "' contains reserved prefix 'amq.*'");
  EXPECT_EQ(error_of(ops::declare_queue(alice, qd("bob.q"))).text,
            refused("queue", "bob.q", "alice"));
  // A server-named queue is checked under its generated name.
  auto unnamed = error_of(ops::declare_queue(alice, qd("")));
  EXPECT_TRUE(unnamed.text.starts_with("ACCESS_REFUSED - access to queue 'amq.gen-"))
      << unnamed.text;
  // A new queue's dead-letter exchange needs write.
  QueueDeclare with_dlx = qd("alice.dl");
  with_dlx.arguments = {{"x-dead-letter-exchange", std::string("x")}};
  EXPECT_EQ(error_of(ops::declare_queue(alice, with_dlx)).text, refused("exchange", "x", "alice"));
  // A passive declare needs no permission but the queue.
  QueueDeclare passive = qd("q");
  passive.passive = true;
  EXPECT_TRUE(ops::declare_queue(alice, passive).ok());
  passive.name = "nope";
  EXPECT_EQ(error_of(ops::declare_queue(alice, passive)).text,
            "NOT_FOUND - no queue 'nope' in vhost '/'");
  // Exclusive queues belong to the principal's connection and are never durable.
  QueueDeclare excl = qd("alice.excl");
  excl.exclusive = true;
  excl.durable = true;
  auto made = ops::declare_queue(alice, excl);
  ASSERT_TRUE(made.ok()) << made.error().text;
  EXPECT_FALSE((*made)->durable());
  EXPECT_EQ((*made)->exclusive_owner(), kConn);
  Principal other = as("admin", kConn + 1);
  auto locked = ops::purge_queue(other, "alice.excl");
  EXPECT_EQ(locked.error().code, 405);
}

TEST_F(OperationsTest, DeletePurgeRules) {
  Principal admin = as("admin"), alice = as("alice");
  to_queue("q", "m");
  EXPECT_EQ(error_of(ops::delete_queue(alice, "q", false, false)).text,
            refused("queue", "q", "alice"));
  auto not_empty = ops::delete_queue(admin, "q", false, true);
  EXPECT_EQ(error_of(not_empty).code, 406);
  EXPECT_EQ(error_of(not_empty).text, "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty");
  FakeSink& sink = new_sink();
  consume(*vh.find_queue("q"), sink, "c");
  EXPECT_EQ(error_of(ops::delete_queue(admin, "q", true, false)).text,
            "PRECONDITION_FAILED - queue 'q' in vhost '/' in use");
  ASSERT_TRUE(auth.set_permissions("alice", "/", "", "", "^alice\\.").ok());
  Principal reader = as("alice");
  EXPECT_EQ(error_of(ops::purge_queue(reader, "q")).text, refused("queue", "q", "alice"));
  auto n = ops::delete_queue(admin, "q", false, false);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);  // the consumer took the message
  EXPECT_EQ(vh.find_queue("q"), nullptr);
}

// ------------------------------------------------------------------------------- bindings

TEST_F(OperationsTest, BindRulesInRabbitMqOrder) {
  Principal admin = as("admin"), alice = as("alice");
  declare("alice.q");
  Destination q{false, "q"}, aq{false, "alice.q"};
  // write on the destination first, then the default exchange, then read on the source
  EXPECT_EQ(ops::bind(alice, "nope", q, "k", {}).error().text, refused("queue", "q", "alice"));
  EXPECT_EQ(ops::bind(alice, "", aq, "k", {}).error().text,
            "ACCESS_REFUSED - operation not permitted on the default exchange");
  EXPECT_EQ(ops::bind(admin, "x", Destination{true, ""}, "k", {}).error().text,
            "ACCESS_REFUSED - operation not permitted on the default exchange");
  EXPECT_EQ(ops::bind(alice, "nope", aq, "k", {}).error().text,
            "NOT_FOUND - no exchange 'nope' in vhost '/'");
  EXPECT_EQ(ops::bind(alice, "x", Destination{false, "alice.none"}, "k", {}).error().text,
            "NOT_FOUND - no queue 'alice.none' in vhost '/'");
  // topic read on the key, for unbind as well
  const std::string topic_refused =
      "ACCESS_REFUSED - access to topic 'bob.#' in exchange 'amq.topic' in vhost '/' refused "
      "for user 'alice'";
  EXPECT_EQ(ops::bind(alice, "amq.topic", aq, "bob.#", {}).error().text, topic_refused);
  EXPECT_EQ(ops::unbind(alice, "amq.topic", aq, "bob.#", {}).error().text, topic_refused);
  ASSERT_TRUE(ops::bind(alice, "amq.topic", aq, "alice.#", {}).ok());
  EXPECT_TRUE(vh.find_exchange("amq.topic")->has_bindings());
  ASSERT_TRUE(ops::unbind(alice, "amq.topic", aq, "alice.#", {}).ok());
  EXPECT_FALSE(vh.find_exchange("amq.topic")->has_bindings());
  // exchange-to-exchange: write on the destination exchange
  EXPECT_EQ(ops::bind(alice, "x", Destination{true, "amq.fanout"}, "k", {}).error().text,
            refused("exchange", "amq.fanout", "alice"));
  ASSERT_TRUE(auth.set_permissions("alice", "/", "", "^alice\\.", "^$").ok());
  Principal no_read = as("alice");
  EXPECT_EQ(ops::bind(no_read, "x", aq, "k", {}).error().text, refused("exchange", "x", "alice"));
}

// ------------------------------------------------------------------------ consume and get

TEST_F(OperationsTest, ConsumeAndGetRules) {
  Principal admin = as("admin");
  ASSERT_TRUE(auth.set_permissions("alice", "/", "", "", "^alice\\.").ok());
  Principal alice = as("alice");
  EXPECT_EQ(error_of(ops::check_get(alice, "q")).text, refused("queue", "q", "alice"));
  EXPECT_EQ(error_of(ops::check_consume(alice, "q", false, {})).text,
            refused("queue", "q", "alice"));
  EXPECT_EQ(error_of(ops::check_get(admin, "nope")).text,
            "NOT_FOUND - no queue 'nope' in vhost '/'");
  auto bad_prio = ops::check_consume(admin, "q", false, {{"x-priority", std::string("high")}});
  EXPECT_EQ(error_of(bad_prio).text,
            "PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'q' in vhost '/': "
            "{unacceptable_type,longstr}");
  auto grant = ops::check_consume(admin, "q", false, {{"x-priority", int32_t{7}}});
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->priority, 7);
  EXPECT_EQ(grant->queue->name(), "q");
  FakeSink& sink = new_sink();
  consume(*grant->queue, sink, "c1");
  const std::string in_use = "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use";
  EXPECT_EQ(error_of(ops::check_consume(admin, "q", true, {})).text, in_use);
  EXPECT_TRUE(ops::check_consume(admin, "q", false, {}).ok());
}

}  // namespace
}  // namespace pulse::broker::testing
