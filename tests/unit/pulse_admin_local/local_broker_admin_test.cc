// LocalBrokerAdmin against an in-process Broker and AuthStore (no sockets): the management
// API's semantics, errors as values, connections through fake injected callbacks, and every
// change persisted through a DefinitionsPersister wired as app/ wires it, across a restart.
#include "pulse/admin_local/local_broker_admin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "../broker/broker_fixture.h"
#include "app/boot.h"
#include "app/persistence.h"
#include "store/data_dir.h"

namespace pulse::admin {
namespace {

using broker::testing::BrokerTest;
using broker::testing::FakeSink;

class LocalAdminTest : public BrokerTest {
 protected:
  LocalAdminTest() {
    broker.add_vhost("v2");
    LocalAdminHooks h;
    h.user_changed = [this](std::string_view u) { user_changes.emplace_back(u); };
    h.permission_changed = [this](std::string_view u, std::string_view v) {
      permission_changes.emplace_back(std::string(u) + "@" + std::string(v));
    };
    h.list_connections = [this] { return connections; };
    h.close_connection = [this](const std::string& name, const std::string& reason) {
      for (const auto& c : connections)
        if (c.name == name) {
          closed.emplace_back(name, reason);
          return true;
        }
      return false;
    };
    admin = std::make_unique<LocalBrokerAdmin>(broker, auth, std::move(h));
  }

  const QueueInfo* find(const std::vector<QueueInfo>& qs, const std::string& vhost,
                        const std::string& name) {
    for (const auto& q : qs)
      if (q.vhost == vhost && q.name == name) return &q;
    return nullptr;
  }

  auth::AuthStore auth;
  std::vector<std::string> user_changes, permission_changes;
  std::vector<ConnectionInfo> connections;
  std::vector<std::pair<std::string, std::string>> closed;
  std::unique_ptr<LocalBrokerAdmin> admin;
};

TEST_F(LocalAdminTest, ListsQueuesOfEveryVhostWithSizesConsumersAndBindings) {
  declare("queue/alice/a", {}, /*durable=*/true);
  declare("queue/alice/b");
  exchange("exchange/alice/x", "topic");
  bind("queue/alice/a", "exchange/alice/x", "a.#");
  bind("queue/alice/a", "amq.direct", "k");
  for (int i = 0; i < 3; ++i) to_queue("queue/alice/a", "m");
  FakeSink& sink = new_sink(/*credit=*/1);
  consume(*vh.find_queue("queue/alice/a"), sink, "ctag");
  ASSERT_EQ(sink.deliveries.size(), 1u);  // one unacknowledged, two ready
  broker::QueueDeclare d;
  d.name = "other";
  ASSERT_TRUE(broker.find_vhost("v2")->declare_queue(std::move(d)).ok());

  auto qs = admin->list_queues();
  ASSERT_TRUE(qs.ok()) << qs.error().text;
  ASSERT_EQ(qs->size(), 3u);
  const QueueInfo* a = find(*qs, "/", "queue/alice/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->messages, 3u);
  EXPECT_EQ(a->messages_ready, 2u);
  EXPECT_EQ(a->messages_unacknowledged, 1u);
  EXPECT_EQ(a->consumers, 1u);
  EXPECT_TRUE(a->durable);
  EXPECT_FALSE(a->exclusive);
  EXPECT_TRUE(a->idle_since.has_value());
  // Not the default exchange's implicit binding; by exchange name.
  EXPECT_EQ(a->bindings,
            (std::vector<BindingInfo>{{"amq.direct", "k"}, {"exchange/alice/x", "a.#"}}));
  const QueueInfo* b = find(*qs, "/", "queue/alice/b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->messages, 0u);
  EXPECT_EQ(b->consumers, 0u);
  EXPECT_FALSE(b->durable);
  EXPECT_TRUE(b->bindings.empty());
  EXPECT_NE(find(*qs, "v2", "other"), nullptr);
}

TEST_F(LocalAdminTest, DeleteQueueCancelsConsumersAndMissingIsNotFound) {
  declare("q");
  FakeSink& sink = new_sink();
  consume(*vh.find_queue("q"), sink, "ctag");
  exchange("x", "topic");
  bind("q", "x", "#");

  ASSERT_TRUE(admin->delete_queue("/", "q", "too big").ok());
  EXPECT_EQ(vh.find_queue("q"), nullptr);
  EXPECT_EQ(sink.cancelled, std::vector<std::string>{"ctag"});
  EXPECT_FALSE(vh.find_exchange("x")->has_bindings());

  auto again = admin->delete_queue("/", "q", "again");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, kNotFound);
  auto no_vhost = admin->delete_queue("nope", "q", "r");
  ASSERT_FALSE(no_vhost.ok());
  EXPECT_EQ(no_vhost.error().code, kNotFound);
}

TEST_F(LocalAdminTest, ListsAndDeletesExchangesWithTheirBindings) {
  exchange("exchange/alice/x", "topic");
  declare("queue/alice/q");
  bind("queue/alice/q", "exchange/alice/x", "a.#");

  auto xs = admin->list_exchanges();
  ASSERT_TRUE(xs.ok()) << xs.error().text;
  auto has = [&](const std::vector<ExchangeInfo>& list, const std::string& vhost,
                 const std::string& name) -> const ExchangeInfo* {
    for (const auto& x : list)
      if (x.vhost == vhost && x.name == name) return &x;
    return nullptr;
  };
  const ExchangeInfo* x = has(*xs, "/", "exchange/alice/x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->type, "topic");
  EXPECT_NE(has(*xs, "/", ""), nullptr);
  EXPECT_NE(has(*xs, "v2", "amq.topic"), nullptr);

  ASSERT_TRUE(admin->delete_exchange("/", "exchange/alice/x").ok());
  EXPECT_EQ(vh.find_exchange("exchange/alice/x"), nullptr);
  auto qs = admin->list_queues();
  ASSERT_TRUE(qs.ok());
  ASSERT_NE(find(*qs, "/", "queue/alice/q"), nullptr);
  EXPECT_TRUE(find(*qs, "/", "queue/alice/q")->bindings.empty());

  auto again = admin->delete_exchange("/", "exchange/alice/x");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, kNotFound);
  auto no_vhost = admin->delete_exchange("nope", "x");
  ASSERT_FALSE(no_vhost.ok());
  EXPECT_EQ(no_vhost.error().code, kNotFound);
  for (const char* system : {"amq.topic", ""}) {
    auto refused = admin->delete_exchange("/", system);
    ASSERT_FALSE(refused.ok()) << system;
    EXPECT_EQ(refused.error().code, 401) << system;
    EXPECT_NE(vh.find_exchange(system), nullptr) << system;
  }
}

TEST_F(LocalAdminTest, ExclusiveQueueIsRefusedAsTheApiRefusesIt) {
  broker::QueueDeclare d;
  d.name = "excl";
  d.exclusive = true;
  d.connection_id = kConn;
  ASSERT_TRUE(vh.declare_queue(std::move(d)).ok());
  auto s = admin->delete_queue("/", "excl", "r");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 405);  // RESOURCE_LOCKED
  EXPECT_NE(vh.find_queue("excl"), nullptr);
}

TEST_F(LocalAdminTest, UsersAndPermissionsRoundTrip) {
  ASSERT_TRUE(admin->put_user("alice", "secret1", {"management"}).ok());
  EXPECT_EQ(user_changes, std::vector<std::string>{"alice"});
  auto users = admin->list_users();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(*users, (std::vector<UserInfo>{{"alice", {"management"}}}));
  EXPECT_NE(auth.authenticate("alice", "secret1"), nullptr);
  EXPECT_EQ(auth.authenticate("alice", "wrong"), nullptr);

  Permissions p{"^(queue/alice/.*|exchange/alice/.*)", "^(queue/alice/.*|exchange/alice/.*)",
                "^(queue/alice/.*|exchange/.*)"};
  ASSERT_TRUE(admin->set_permissions("/", "alice", p).ok());
  ASSERT_TRUE(admin->set_permissions("v2", "alice", Permissions{"", "", ".*"}).ok());
  EXPECT_EQ(permission_changes, (std::vector<std::string>{"alice@/", "alice@v2"}));
  auto perms = admin->list_permissions("alice");
  ASSERT_TRUE(perms.ok());
  EXPECT_EQ(*perms, (std::vector<UserPermissions>{{"/", "alice", p},
                                                  {"v2", "alice", Permissions{"", "", ".*"}}}));
  EXPECT_TRUE(auth.check("alice", "/", "queue/alice/q", auth::Access::kConfigure));
  EXPECT_FALSE(auth.check("alice", "/", "queue/bob/q", auth::Access::kConfigure));

  auto missing = admin->list_permissions("nobody");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, kNotFound);
}

TEST_F(LocalAdminTest, PasswordChangeKeepsPermissionsQueuesAndTagsChange) {
  ASSERT_TRUE(admin->put_user("alice", "secret1", {}).ok());
  ASSERT_TRUE(admin->set_permissions("/", "alice", Permissions{".*", ".*", ".*"}).ok());
  declare("queue/alice/q");
  ASSERT_TRUE(admin->put_user("alice", "secret2", {"monitoring"}).ok());
  EXPECT_EQ(auth.authenticate("alice", "secret1"), nullptr);
  EXPECT_NE(auth.authenticate("alice", "secret2"), nullptr);
  EXPECT_EQ(auth.find_user("alice")->tags, std::vector<std::string>{"monitoring"});
  auto perms = admin->list_permissions("alice");
  ASSERT_TRUE(perms.ok());
  ASSERT_EQ(perms->size(), 1u);
  EXPECT_EQ((*perms)[0].permissions, (Permissions{".*", ".*", ".*"}));
  EXPECT_NE(vh.find_queue("queue/alice/q"), nullptr);
  EXPECT_EQ(user_changes, (std::vector<std::string>{"alice", "alice"}));
}

TEST_F(LocalAdminTest, DeleteUserRemovesItsPermissionsAndMissingIsNotFound) {
  ASSERT_TRUE(admin->put_user("alice", "secret1", {}).ok());
  ASSERT_TRUE(admin->put_user("bob", "secret2", {}).ok());
  ASSERT_TRUE(admin->set_permissions("/", "alice", Permissions{".*", ".*", ".*"}).ok());
  ASSERT_TRUE(admin->set_permissions("/", "bob", Permissions{".*", ".*", ".*"}).ok());
  user_changes.clear();

  ASSERT_TRUE(admin->delete_user("alice").ok());
  EXPECT_EQ(user_changes, std::vector<std::string>{"alice"});
  EXPECT_EQ(auth.find_user("alice"), nullptr);
  EXPECT_FALSE(auth.has_vhost_access("alice", "/"));
  EXPECT_TRUE(auth.has_vhost_access("bob", "/"));
  auto users = admin->list_users();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(*users, (std::vector<UserInfo>{{"bob", {}}}));

  auto again = admin->delete_user("alice");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, kNotFound);
  EXPECT_EQ(user_changes.size(), 1u);  // nothing changed, nothing persisted
}

TEST_F(LocalAdminTest, SetPermissionsErrorsAreValuesAndChangeNothing) {
  ASSERT_TRUE(admin->put_user("alice", "secret1", {}).ok());
  auto bad = admin->set_permissions("/", "alice", Permissions{"(", ".*", ".*"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 400);
  EXPECT_FALSE(auth.has_vhost_access("alice", "/"));

  auto no_user = admin->set_permissions("/", "nobody", Permissions{".*", ".*", ".*"});
  ASSERT_FALSE(no_user.ok());
  EXPECT_EQ(no_user.error().code, 400);
  EXPECT_EQ(no_user.error().text, "vhost_or_user_not_found");
  auto no_vhost = admin->set_permissions("nope", "alice", Permissions{".*", ".*", ".*"});
  ASSERT_FALSE(no_vhost.ok());
  EXPECT_EQ(no_vhost.error().text, "vhost_or_user_not_found");
  EXPECT_TRUE(permission_changes.empty());
}

TEST_F(LocalAdminTest, ConnectionsGoThroughTheInjectedCallbacks) {
  ConnectionInfo c;
  c.name = "127.0.0.1:5000 -> 127.0.0.1:5672";
  c.user = "alice";
  c.vhost = "/";
  c.peer = "127.0.0.1:5000";
  connections.push_back(c);
  auto listed = admin->list_connections();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, c.name);
  EXPECT_EQ((*listed)[0].user, "alice");

  ASSERT_TRUE(admin->close_connection(c.name, "connection too old").ok());
  EXPECT_EQ(closed,
            (std::vector<std::pair<std::string, std::string>>{{c.name, "connection too old"}}));
  auto missing = admin->close_connection("nope", "r");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, kNotFound);
}

TEST(LocalAdminNoHooks, WithoutConnectionCallbacksThereAreNoConnections) {
  broker::Broker broker;
  auth::AuthStore auth;
  LocalBrokerAdmin admin(broker, auth, {});
  auto listed = admin.list_connections();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto closed = admin.close_connection("c", "r");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, kNotFound);
  // Auth changes without persistence callbacks still happen.
  ASSERT_TRUE(admin.put_user("alice", "secret1", {}).ok());
  EXPECT_NE(auth.find_user("alice"), nullptr);
}

// One pulsed lifetime over a data directory, with the admin's persistence wired to the
// DefinitionsPersister as app/'s local_admin_hooks wires it.
struct Node {
  explicit Node(const std::string& path) {
    auto d = store::DataDir::open(path);
    EXPECT_TRUE(d.ok()) << d.error().text;
    dir = std::move(*d);
    auto s = dir->open_definitions();
    EXPECT_TRUE(s.ok()) << s.error().text;
    defs = std::move(*s);
    persister = std::make_unique<app::DefinitionsPersister>(*defs);
    auto b = app::boot_from_store(*defs, dir->initialised_now(), app::Config{}, broker, auth,
                                  *persister);
    EXPECT_TRUE(b.ok()) << b.error().text;
    LocalAdminHooks h;
    h.user_changed = [this](std::string_view u) {
      EXPECT_TRUE(persister->persist_user(auth, u).ok());
    };
    h.permission_changed = [this](std::string_view u, std::string_view v) {
      EXPECT_TRUE(persister->persist_permission(auth, u, v).ok());
    };
    admin = std::make_unique<LocalBrokerAdmin>(broker, auth, std::move(h));
  }
  ~Node() { broker.set_definitions_observer(nullptr); }

  std::unique_ptr<store::DataDir> dir;
  std::unique_ptr<store::DefinitionsStore> defs;
  std::unique_ptr<app::DefinitionsPersister> persister;
  broker::Broker broker;
  auth::AuthStore auth;
  std::unique_ptr<LocalBrokerAdmin> admin;
};

TEST(LocalAdminPersistence, ChangesSurviveARestart) {
  const auto path =
      (std::filesystem::temp_directory_path() / ("pulse_admin_local_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(path);
  {
    Node n(path);
    ASSERT_TRUE(n.admin->put_user("alice", "secret1", {"management"}).ok());
    ASSERT_TRUE(n.admin->set_permissions("/", "alice", Permissions{"^a", "^b", "^c"}).ok());
    ASSERT_TRUE(n.admin->put_user("alice", "secret2", {}).ok());  // keeps the permission
    ASSERT_TRUE(n.admin->put_user("bob", "secret3", {}).ok());
    ASSERT_TRUE(n.admin->set_permissions("/", "bob", Permissions{".*", ".*", ".*"}).ok());
    ASSERT_TRUE(n.admin->delete_user("bob").ok());
    broker::VHost* vh = n.broker.find_vhost("/");
    for (const char* q : {"kept", "gone"}) {
      broker::QueueDeclare d;
      d.name = q;
      d.durable = true;
      ASSERT_TRUE(vh->declare_queue(std::move(d)).ok());
    }
    ASSERT_TRUE(n.admin->delete_queue("/", "gone", "restart test").ok());
    EXPECT_EQ(n.persister->failures(), 0u);
  }
  {
    Node n(path);
    EXPECT_NE(n.auth.authenticate("alice", "secret2"), nullptr);
    EXPECT_EQ(n.auth.authenticate("alice", "secret1"), nullptr);
    EXPECT_TRUE(n.auth.find_user("alice")->tags.empty());
    auto perms = n.admin->list_permissions("alice");
    ASSERT_TRUE(perms.ok());
    EXPECT_EQ(*perms, (std::vector<UserPermissions>{{"/", "alice", {"^a", "^b", "^c"}}}));
    EXPECT_EQ(n.auth.find_user("bob"), nullptr);
    EXPECT_FALSE(n.auth.has_vhost_access("bob", "/"));
    EXPECT_NE(n.broker.find_vhost("/")->find_queue("kept"), nullptr);
    EXPECT_EQ(n.broker.find_vhost("/")->find_queue("gone"), nullptr);
  }
  std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace pulse::admin
