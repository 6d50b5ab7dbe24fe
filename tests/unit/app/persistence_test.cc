// Definitions survive a "restart": a broker wired to a DefinitionsStore in a temp dir, then a
// fresh broker recovered from the same store. Durable things come back, transient and
// exclusive ones (and bindings touching them) do not.
#include "app/persistence.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "app/boot.h"
#include "definitions/json.h"
#include "store/data_dir.h"

namespace pulse::app {
namespace {

using definitions::apply_definitions;
using definitions::parse_definitions;

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             ("pulse_app_" + std::string(info->name()) + "_" + std::to_string(::getpid())))
                .string();
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One pulsed lifetime: opens the data dir, boots from it, lets the test act, then closes.
struct Node {
  explicit Node(const std::string& path, const Config& config = {}) {
    auto d = store::DataDir::open(path);
    EXPECT_TRUE(d.ok()) << d.error().text;
    dir = std::move(*d);
    auto s = dir->open_definitions();
    EXPECT_TRUE(s.ok()) << s.error().text;
    defs = std::move(*s);
    persister = std::make_unique<DefinitionsPersister>(*defs);
    auto b = boot_from_store(*defs, dir->initialised_now(), config, broker, auth, *persister);
    EXPECT_TRUE(b.ok()) << b.error().text;
    vh = broker.find_vhost("/");
  }
  ~Node() { broker.set_definitions_observer(nullptr); }

  void exchange(const std::string& name, const std::string& type, bool durable,
                amqp::FieldTable args = {}, bool auto_delete = false) {
    broker::ExchangeDeclare d{.name = name,
                              .type = type,
                              .durable = durable,
                              .auto_delete = auto_delete,
                              .arguments = std::move(args)};
    auto r = vh->declare_exchange(d);
    ASSERT_TRUE(r.ok()) << r.error().text;
  }
  void queue(const std::string& name, bool durable, bool exclusive = false,
             amqp::FieldTable args = {}, bool auto_delete = false) {
    broker::QueueDeclare d;
    d.name = name;
    d.durable = durable;
    d.exclusive = exclusive;
    d.auto_delete = auto_delete;
    d.arguments = std::move(args);
    d.connection_id = 7;
    auto r = vh->declare_queue(std::move(d));
    ASSERT_TRUE(r.ok()) << r.error().text;
  }
  void bind(const std::string& q, const std::string& x, const std::string& key) {
    auto s = vh->bind_queue(q, x, key, {}, 7);
    ASSERT_TRUE(s.ok()) << s.error().text;
  }
  size_t routed(const std::string& x, const std::string& key) {
    broker::Message m;
    m.exchange = x;
    m.routing_key = key;
    m.body = "m";
    auto r = vh->publish(std::move(m));
    return r.ok() ? r->routed : 0;
  }

  std::unique_ptr<store::DataDir> dir;
  std::unique_ptr<store::DefinitionsStore> defs;
  std::unique_ptr<DefinitionsPersister> persister;
  broker::Broker broker;
  auth::AuthStore auth;
  broker::VHost* vh = nullptr;
};

TEST(Persistence, DurableDefinitionsSurviveTransientOnesDoNot) {
  TempDir tmp;
  {
    Node n(tmp.path());
    amqp::FieldTable qargs;
    amqp::set(qargs, "x-max-length", amqp::FieldValue(int32_t{5}));
    amqp::FieldTable xargs;
    amqp::set(xargs, "alternate-exchange", amqp::FieldValue(std::string("ae")));
    n.exchange("dx", "topic", true, xargs);
    n.exchange("ae", "fanout", true);
    n.exchange("tx", "fanout", false);
    n.exchange("dx2", "direct", true);
    n.queue("dq", true, false, qargs);
    n.queue("tq", false);
    n.queue("eq", true, /*exclusive=*/true);
    n.queue("gone", true);
    n.bind("dq", "dx", "a.*");
    n.bind("tq", "dx", "a.*");  // transient destination: not stored
    n.bind("dq", "tx", "");     // transient source: not stored
    n.bind("eq", "dx", "a.*");  // exclusive destination: not stored
    n.bind("dq", "amq.direct", "k");
    ASSERT_TRUE(n.vh->bind_exchange("dx2", "dx", "b.#", {}).ok());
    n.bind("dq", "dx2", "b.c");
    n.bind("dq", "dx", "removed");
    ASSERT_TRUE(n.vh->unbind_queue("dq", "dx", "removed", {}, 7).ok());
    ASSERT_TRUE(n.vh->delete_queue("gone", false, false, 7).ok());
    EXPECT_EQ(n.persister->failures(), 0u);
  }
  Node n(tmp.path());
  EXPECT_NE(n.vh->find_exchange("dx"), nullptr);
  EXPECT_NE(n.vh->find_exchange("dx2"), nullptr);
  EXPECT_EQ(n.vh->find_exchange("tx"), nullptr);
  EXPECT_EQ(n.vh->find_exchange("dx")->alternate_exchange(), "ae");
  ASSERT_NE(n.vh->find_queue("dq"), nullptr);
  EXPECT_EQ(n.vh->find_queue("dq")->args().max_length, 5);
  EXPECT_EQ(n.vh->find_queue("tq"), nullptr);
  EXPECT_EQ(n.vh->find_queue("eq"), nullptr);
  EXPECT_EQ(n.vh->find_queue("gone"), nullptr);
  EXPECT_EQ(n.routed("dx", "a.b"), 1u);  // dq only
  EXPECT_EQ(n.routed("dx", "b.c"), 1u);  // dx -> dx2 -> dq
  EXPECT_EQ(n.routed("amq.direct", "k"), 1u);
  EXPECT_EQ(n.routed("dx", "removed"), 0u);
  EXPECT_EQ(n.vh->find_exchange("dx")->bindings().size(), 2u);
}

TEST(Persistence, AutoDeleteAndExclusiveCleanupReachTheStore) {
  TempDir tmp;
  {
    Node n(tmp.path());
    n.exchange("ad", "fanout", true, {}, /*auto_delete=*/true);
    n.queue("q1", true);
    n.bind("q1", "ad", "");
    // Deleting the queue drops its binding, which auto-deletes the durable exchange.
    ASSERT_TRUE(n.vh->delete_queue("q1", false, false, 7).ok());
    EXPECT_EQ(n.vh->find_exchange("ad"), nullptr);
    n.queue("ex", true, true);
    n.broker.connection_closed(7);
    EXPECT_EQ(n.persister->failures(), 0u);
  }
  auto dir = store::DataDir::open(tmp.path());
  ASSERT_TRUE(dir.ok());
  auto defs = (*dir)->open_definitions();
  ASSERT_TRUE(defs.ok());
  auto all = (*defs)->load_all();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->defs.exchanges.empty());
  EXPECT_TRUE(all->defs.queues.empty());
  EXPECT_TRUE(all->defs.bindings.empty());
}

TEST(Persistence, DefaultsOnlyOnAFreshDirectoryAndUsersPersist) {
  TempDir tmp;
  {
    Node n(tmp.path());
    ASSERT_NE(n.auth.find_user("guest"), nullptr);
    auto defs =
        parse_definitions(R"({"users": [{"name": "ci", "password": "pw", "tags": ["monitoring"]}],
      "vhosts": [{"name": "builds"}],
      "permissions": [{"user": "ci", "vhost": "builds", "configure": ".*", "write": "", "read": "x"}],
      "topic_permissions": [{"user": "ci", "vhost": "builds", "exchange": "amq.topic",
                             "write": "^a", "read": ".*"}]})");
    ASSERT_TRUE(defs.ok()) << defs.error().text;
    auto s = import_definitions(*defs, n.broker, n.auth, *n.defs, *n.persister);
    ASSERT_TRUE(s.ok()) << s.error().text;
    // A user deleted at run time stays deleted.
    ASSERT_TRUE(n.auth.delete_user("guest").ok());
    ASSERT_TRUE(n.persister->persist_user(n.auth, "guest").ok());
  }
  Node n(tmp.path());
  EXPECT_EQ(n.auth.find_user("guest"), nullptr);  // not re-created: the directory is not new
  const auth::User* ci = n.auth.authenticate("ci", "pw");
  ASSERT_NE(ci, nullptr);
  EXPECT_TRUE(ci->has_tag("monitoring"));
  EXPECT_NE(n.broker.find_vhost("builds"), nullptr);
  EXPECT_TRUE(n.auth.check("ci", "builds", "anything", auth::Access::kConfigure));
  EXPECT_FALSE(n.auth.check("ci", "builds", "anything", auth::Access::kWrite));
  EXPECT_TRUE(n.auth.check_topic("ci", "builds", "amq.topic", "abc", auth::Access::kWrite));
  EXPECT_FALSE(n.auth.check_topic("ci", "builds", "amq.topic", "zzz", auth::Access::kWrite));
}

TEST(Persistence, VhostMetadataSurvives) {
  TempDir tmp;
  {
    Node n(tmp.path());
    auto defs = parse_definitions(R"({"vhosts": [{"name": "staging", "description": "d",
      "tags": ["a", "b"], "metadata": {"default_queue_type": "quorum"}}, {"name": "plain"}]})");
    ASSERT_TRUE(defs.ok()) << defs.error().text;
    ASSERT_TRUE(import_definitions(*defs, n.broker, n.auth, *n.defs, *n.persister).ok());
    n.broker.add_vhost("later").set_metadata({"set at run time", {"x"}, ""});
  }
  Node n(tmp.path());
  const broker::VHostMetadata staging{"d", {"a", "b"}, "quorum"};
  const broker::VHostMetadata later{"set at run time", {"x"}, ""};
  ASSERT_NE(n.broker.find_vhost("staging"), nullptr);
  EXPECT_EQ(n.broker.find_vhost("staging")->metadata(), staging);
  EXPECT_EQ(n.broker.find_vhost("plain")->metadata(), broker::VHostMetadata{});
  EXPECT_EQ(n.broker.find_vhost("later")->metadata(), later);
}

TEST(Persistence, PoliciesSurviveAndApplyToRecoveredQueues) {
  TempDir tmp;
  {
    Node n(tmp.path());
    n.queue("capped", true);
    auto set = [&](const std::string& name, const std::string& pattern, amqp::FieldTable def,
                   int64_t prio) {
      auto s = n.vh->set_policy(broker::PolicySpec{name, pattern, "queues", prio, std::move(def)});
      ASSERT_TRUE(s.ok()) << s.error().text;
    };
    set("cap", "^capped$",
        {{"max-length", int64_t{2}},
         {"overflow", "reject-publish"},
         {"ha-mode", "nodes"},
         {"ha-params", amqp::FieldArray{"rabbit@a", "rabbit@b"}}},
        7);
    set("gone", ".*", {{"expires", int64_t{60000}}}, 0);
    set("replaced", "^x", {{"max-length", int64_t{1}}}, 0);
    set("replaced", "^y", {{"max-length", int64_t{9}}}, 3);
    ASSERT_TRUE(n.vh->clear_policy("gone"));
    EXPECT_EQ(n.persister->failures(), 0u);
  }
  Node n(tmp.path());
  const auto& policies = n.vh->policies();
  ASSERT_EQ(policies.size(), 2u);
  const broker::Policy& cap = *policies.at("cap");
  EXPECT_EQ(cap.pattern(), "^capped$");
  EXPECT_EQ(cap.priority(), 7);
  EXPECT_EQ(cap.apply_to(), broker::PolicyApplyTo::kQueues);
  EXPECT_EQ(cap.get("overflow")->as_string() ? *cap.get("overflow")->as_string() : "",
            "reject-publish");
  ASSERT_NE(cap.get("ha-params")->as_array(), nullptr);
  EXPECT_EQ(cap.get("ha-params")->as_array()->size(), 2u);
  EXPECT_EQ(policies.at("replaced")->pattern(), "^y");
  EXPECT_EQ(policies.at("replaced")->priority(), 3);
  // The recovered durable queue has the recovered policy in force.
  auto q = n.vh->find_queue("capped");
  ASSERT_NE(q, nullptr);
  ASSERT_NE(q->policy(), nullptr);
  EXPECT_EQ(q->policy()->name(), "cap");
  EXPECT_EQ(q->args().max_length, 2);
  EXPECT_EQ(n.routed("", "capped"), 1u);
  EXPECT_EQ(n.routed("", "capped"), 1u);
  broker::Message m;
  m.exchange = "";
  m.routing_key = "capped";
  auto r = n.vh->publish(std::move(m));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rejected);
}

// Global parameters persist; internal_cluster_id is made once per data directory; the
// config's cluster_name replaces a stored one at every boot, as in RabbitMQ.
TEST(Persistence, GlobalParametersAndClusterIdentity) {
  TempDir tmp;
  std::string id;
  {
    Node n(tmp.path());
    const auto& gp = n.broker.global_parameters();
    id = gp.internal_cluster_id();
    EXPECT_TRUE(id.starts_with("rabbitmq-cluster-id-")) << id;
    EXPECT_EQ(id.size(), 20u + 22u);
    EXPECT_EQ(gp.cluster_name(), "pulse@localhost");  // the default, until set
    EXPECT_EQ(gp.find("cluster_name"), nullptr);
    auto r = n.broker.set_global_parameter("cluster_name", "\"renamed\"");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
    EXPECT_FALSE(n.broker.set_global_parameter("cluster_name", "7").ok());
    EXPECT_EQ(gp.cluster_name(), "renamed");
    ASSERT_TRUE(n.broker.set_global_parameter("x", R"({"a":[1]})").ok());
    ASSERT_TRUE(n.broker.set_global_parameter("gone", "1").ok());
    EXPECT_TRUE(n.broker.clear_global_parameter("gone"));
    EXPECT_FALSE(n.broker.clear_global_parameter("gone"));
    EXPECT_EQ(n.persister->failures(), 0u);
  }
  {
    Node n(tmp.path());
    const auto& gp = n.broker.global_parameters();
    EXPECT_EQ(gp.internal_cluster_id(), id);
    EXPECT_EQ(gp.cluster_name(), "renamed");
    ASSERT_NE(gp.find("x"), nullptr);
    EXPECT_EQ(*gp.find("x"), R"({"a":[1]})");
    EXPECT_EQ(gp.find("gone"), nullptr);
    EXPECT_TRUE(n.broker.clear_global_parameter("cluster_name"));
    EXPECT_EQ(gp.cluster_name(), "pulse@localhost");
  }
  Config config;
  config.cluster_name = "configured";
  {
    Node n(tmp.path(), config);
    EXPECT_EQ(n.broker.global_parameters().cluster_name(), "configured");
    EXPECT_EQ(n.broker.global_parameters().internal_cluster_id(), id);
  }
  Node n(tmp.path());
  EXPECT_EQ(n.broker.global_parameters().cluster_name(), "configured");  // stored
}

}  // namespace
}  // namespace pulse::app
