#include "store/definitions_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "test_util.h"

namespace pulse::store {
namespace {

using testing::bytes;
using testing::TempDir;

using definitions::DestinationKind;

definitions::Vhost vhost(std::string name) {
  return {.name = std::move(name)};
}
definitions::Permission permission(std::string user, std::string vh) {
  return {
      .user = std::move(user), .vhost = std::move(vh), .configure = "", .write = "", .read = ""};
}
definitions::Exchange exchange(std::string vh, std::string name, std::string type) {
  return {.vhost = std::move(vh), .name = std::move(name), .type = std::move(type)};
}
definitions::Queue queue(std::string vh, std::string name, amqp::FieldTable args = {}) {
  return {.vhost = std::move(vh),
          .name = std::move(name),
          .type = "classic",
          .durable = true,
          .auto_delete = false,
          .arguments = std::move(args)};
}
definitions::Binding binding(std::string vh, std::string source, std::string dest,
                             DestinationKind kind, std::string key, amqp::FieldTable args = {}) {
  return {.vhost = std::move(vh),
          .source = std::move(source),
          .destination = std::move(dest),
          .destination_kind = kind,
          .routing_key = std::move(key),
          .arguments = std::move(args)};
}
definitions::Policy policy(std::string vh, std::string name, amqp::FieldTable def = {}) {
  return {.vhost = std::move(vh),
          .name = std::move(name),
          .pattern = ".*",
          .apply_to = "all",
          .definition = std::move(def),
          .priority = 0};
}
amqp::FieldTable table(const char* key, int64_t v) {
  return {{key, amqp::FieldValue(v)}};
}

std::unique_ptr<DefinitionsStore> open_db(const std::string& path, bool create = true) {
  auto db = DefinitionsStore::open(path, create);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().text);
  return db.ok() ? std::move(*db) : nullptr;
}

TEST(DefinitionsStore, EverythingRoundTripsAcrossReopen) {
  TempDir tmp;
  std::string path = tmp.sub("defs.db");
  uint64_t qid = 0;
  {
    auto db = open_db(path);
    ASSERT_TRUE(db->put_vhost({.name = "/",
                               .description = "default",
                               .tags = {"prod"},
                               .default_queue_type = "quorum"})
                    .ok());
    ASSERT_TRUE(db->put_user({.name = "guest",
                              .password_hash = "aGFzaA==",
                              .hashing_algorithm = "rabbit_password_hashing_sha256",
                              .password = std::nullopt,
                              .tags = {"administrator", "management"}})
                    .ok());
    ASSERT_TRUE(
        db->put_permission(
              {.user = "guest", .vhost = "/", .configure = ".*", .write = ".*", .read = ".*"})
            .ok());
    ASSERT_TRUE(
        db->put_topic_permission(
              {.user = "guest", .vhost = "/", .exchange = "amq.topic", .write = "^a", .read = "^b"})
            .ok());
    auto ex = exchange("/", "ex", "topic");
    ex.internal = true;
    ex.arguments = table("alternate-exchange", 3);
    ASSERT_TRUE(db->put_exchange(ex).ok());
    auto id = db->put_queue(queue("/", "q"));
    ASSERT_TRUE(id.ok());
    qid = *id;
    auto b = binding("/", "ex", "q", DestinationKind::kQueue, "a.#", table("x", 9));
    ASSERT_TRUE(db->add_binding(b).ok());
    ASSERT_TRUE(db->add_binding(b).ok());  // idempotent
    b.arguments.clear();
    ASSERT_TRUE(db->add_binding(b).ok());  // other args
    auto p = policy("/", "ttl", table("message-ttl", 1));
    p.priority = 5;
    ASSERT_TRUE(db->put_policy(p).ok());
    ASSERT_TRUE(db->put_global_parameter("cluster_name", R"("rabbit@x")").ok());
    ASSERT_TRUE(
        db->put_kv({.scope = "pulse.owner", .key = "exchange///ex", .value = bytes("alice")}).ok());
  }
  auto db = open_db(path, false);
  auto all = db->load_all();
  ASSERT_TRUE(all.ok()) << all.error().text;
  const definitions::Definitions& d = all->defs;
  ASSERT_EQ(d.vhosts.size(), 1u);
  EXPECT_EQ(d.vhosts[0].description, "default");
  EXPECT_EQ(d.vhosts[0].tags, std::vector<std::string>{"prod"});
  EXPECT_EQ(d.vhosts[0].default_queue_type, "quorum");
  ASSERT_EQ(d.users.size(), 1u);
  EXPECT_EQ(d.users[0].tags, (std::vector<std::string>{"administrator", "management"}));
  EXPECT_EQ(d.users[0].hashing_algorithm, "rabbit_password_hashing_sha256");
  ASSERT_EQ(d.permissions.size(), 1u);
  EXPECT_EQ(d.permissions[0].write, ".*");
  ASSERT_EQ(d.topic_permissions.size(), 1u);
  EXPECT_EQ(d.topic_permissions[0].read, "^b");
  ASSERT_EQ(d.exchanges.size(), 1u);
  EXPECT_TRUE(d.exchanges[0].internal);
  EXPECT_EQ(d.exchanges[0].arguments, table("alternate-exchange", 3));
  ASSERT_EQ(d.queues.size(), 1u);
  ASSERT_EQ(all->queue_ids, std::vector<uint64_t>{qid});
  ASSERT_EQ(d.bindings.size(), 2u);
  EXPECT_EQ(d.bindings[0].arguments, table("x", 9));
  EXPECT_TRUE(d.bindings[1].arguments.empty());
  ASSERT_EQ(d.policies.size(), 1u);
  EXPECT_EQ(d.policies[0].priority, 5);
  EXPECT_EQ(d.policies[0].definition, table("message-ttl", 1));
  ASSERT_EQ(d.global_parameters.size(), 1u);
  EXPECT_EQ(d.global_parameters[0].value, "rabbit@x");
  ASSERT_EQ(all->kv.size(), 1u);
  EXPECT_EQ(all->kv[0].value, bytes("alice"));
}

// Rows as an earlier pulsed wrote them (vhosts without metadata, arguments as field-table
// bytes) load; a damaged column is an error naming the row.
TEST(DefinitionsStore, ReadsRowsOfEarlierVersionsAndNamesDamagedOnes) {
  TempDir tmp;
  std::string path = tmp.sub("defs.db");
  { open_db(path); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  const char* rows =
      "INSERT INTO vhosts VALUES ('old', '');"
      "INSERT INTO queues (vhost, name, type, durable, auto_delete, arguments) VALUES "
      "('old', 'q', 'classic', 1, 0, x'0000000401787401');";
  ASSERT_EQ(sqlite3_exec(raw, rows, nullptr, nullptr, nullptr), SQLITE_OK);
  {
    auto db = open_db(path, false);
    auto all = db->load_all();
    ASSERT_TRUE(all.ok()) << all.error().text;
    ASSERT_EQ(all->defs.vhosts.size(), 1u);
    EXPECT_TRUE(all->defs.vhosts[0].description.empty());
    ASSERT_EQ(all->defs.queues.size(), 1u);
    ASSERT_EQ(all->defs.queues[0].arguments.size(), 1u);
    EXPECT_EQ(all->defs.queues[0].arguments[0].first, "x");
  }
  ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO policies VALUES ('old', 'p', 0, '.*', 'all', 0, 'nope')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto db = open_db(path, false);
  auto all = db->load_all();
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().text,
            "definitions database: undecodable definition of policy 'p' in vhost 'old' (damaged "
            "database?)");
}

TEST(DefinitionsStore, QueueIdsAreStableAcrossRedeclareAndNewAfterDelete) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  auto a = db->put_queue(queue("/", "q"));
  auto redeclared = queue("/", "q", table("x", 7));
  redeclared.auto_delete = true;
  auto b = db->put_queue(redeclared);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  ASSERT_TRUE(db->delete_queue("/", "q").ok());
  auto c = db->put_queue(queue("/", "q"));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*c, *a);  // a recreated queue never inherits the old message directory
}

TEST(DefinitionsStore, DeletesCascade) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  for (const char* vh : {"a", "b"}) {
    ASSERT_TRUE(db->put_vhost(vhost(vh)).ok());
    ASSERT_TRUE(db->put_permission(permission("u", vh)).ok());
    ASSERT_TRUE(db->put_exchange(exchange(vh, "x", "direct")).ok());
    ASSERT_TRUE(db->put_exchange(exchange(vh, "y", "fanout")).ok());
    ASSERT_TRUE(db->put_queue(queue(vh, "q")).ok());
    ASSERT_TRUE(db->add_binding(binding(vh, "x", "q", DestinationKind::kQueue, "k")).ok());
    ASSERT_TRUE(db->add_binding(binding(vh, "x", "y", DestinationKind::kExchange, "k")).ok());
    ASSERT_TRUE(db->put_policy(policy(vh, "p")).ok());
  }
  ASSERT_TRUE(db->put_user({.name = "u"}).ok());
  ASSERT_TRUE(db->delete_vhost("a").ok());
  auto d = db->load_all()->defs;
  EXPECT_EQ(d.vhosts.size(), 1u);
  EXPECT_EQ(d.permissions.size(), 1u);
  EXPECT_EQ(d.exchanges.size(), 2u);
  EXPECT_EQ(d.queues.size(), 1u);
  EXPECT_EQ(d.bindings.size(), 2u);
  EXPECT_EQ(d.policies.size(), 1u);
  ASSERT_TRUE(db->delete_queue("b", "q").ok());
  EXPECT_EQ(db->load_all()->defs.bindings.size(), 1u);
  ASSERT_TRUE(db->delete_exchange("b", "y").ok());  // as destination
  EXPECT_EQ(db->load_all()->defs.bindings.size(), 0u);
  ASSERT_TRUE(db->delete_user("u").ok());
  EXPECT_TRUE(db->load_all()->defs.permissions.empty());
  // absent: fine
  ASSERT_TRUE(db->delete_binding(binding("b", "x", "q", DestinationKind::kQueue, "k")).ok());
}

TEST(DefinitionsStore, LimitsRoundTripAndCascade) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  ASSERT_TRUE(db->put_vhost(vhost("v")).ok());
  ASSERT_TRUE(db->put_vhost(vhost("w")).ok());
  ASSERT_TRUE(db->put_parameter({.vhost = "v",
                                 .component = "vhost-limits",
                                 .name = "limits",
                                 .value = nlohmann::json::parse(R"({"max-queues": 3})")})
                  .ok());
  ASSERT_TRUE(db->put_parameter({.vhost = "w",
                                 .component = "vhost-limits",
                                 .name = "limits",
                                 .value = nlohmann::json::array()})
                  .ok());
  EXPECT_FALSE(db->put_parameter({.vhost = "v", .component = "shovel", .name = "s"}).ok());
  ASSERT_TRUE(db->put_user({.name = "u",
                            .password_hash = "",
                            .hashing_algorithm = "rabbit_password_hashing_sha256",
                            .password = std::nullopt,
                            .tags = {},
                            .limits = nlohmann::json::parse(R"({"max-channels": 2})")})
                  .ok());
  ASSERT_TRUE(db->put_user({.name = "nolimits",
                            .password_hash = "",
                            .hashing_algorithm = "rabbit_password_hashing_sha256",
                            .password = std::nullopt,
                            .tags = {},
                            .limits = nlohmann::json::object()})
                  .ok());
  db.reset();
  db = open_db(tmp.sub("defs.db"), false);
  auto all = db->load_all();
  ASSERT_TRUE(all.ok()) << all.error().text;
  const auto& d = all->defs;
  ASSERT_EQ(d.parameters.size(), 2u);
  EXPECT_EQ(d.parameters[0].vhost, "v");
  EXPECT_EQ(d.parameters[0].component, "vhost-limits");
  EXPECT_EQ(d.parameters[0].name, "limits");
  EXPECT_EQ(d.parameters[0].value, nlohmann::json::parse(R"({"max-queues": 3})"));
  EXPECT_EQ(d.parameters[1].value, nlohmann::json::array());
  EXPECT_TRUE(all->kv.empty());
  ASSERT_EQ(d.users.size(), 2u);
  for (const auto& u : d.users) {
    if (u.name == "u") {
      EXPECT_EQ(u.limits, nlohmann::json::parse(R"({"max-channels": 2})"));
    } else {
      EXPECT_FALSE(u.limits.has_value());
    }
  }
  // Cleared, and gone with their vhost or user.
  ASSERT_TRUE(db->delete_parameter("w", "vhost-limits", "limits").ok());
  ASSERT_TRUE(db->delete_vhost("v").ok());
  ASSERT_TRUE(db->delete_user("u").ok());
  ASSERT_TRUE(db->put_user({.name = "u"}).ok());
  all = db->load_all();
  EXPECT_TRUE(all->defs.parameters.empty());
  for (const auto& u : all->defs.users) EXPECT_FALSE(u.limits.has_value()) << u.name;
}

TEST(DefinitionsStore, FailedTransactionChangesNothing) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  Status s = db->transaction([&]() -> Status {
    if (auto e = db->put_vhost(vhost("v")); !e) return e;
    if (auto e = db->put_exchange(exchange("v", "x", "direct")); !e) return e;
    return Error{406, "PRECONDITION_FAILED - import aborted"};
  });
  EXPECT_FALSE(s.ok());
  auto d = db->load_all()->defs;
  EXPECT_TRUE(d.vhosts.empty());
  EXPECT_TRUE(d.exchanges.empty());
  ASSERT_TRUE(db->transaction([&]() -> Status { return db->put_vhost(vhost("v")); }).ok());
  EXPECT_EQ(db->load_all()->defs.vhosts.size(), 1u);
}

TEST(DefinitionsStore, KilledWriterLeavesAConsistentPrefix) {
  TempDir tmp;
  std::string path = tmp.sub("defs.db");
  { open_db(path); }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = DefinitionsStore::open(path, false);
    if (!db.ok()) ::_exit(1);
    // Each step is one transaction: queue i, then its binding.
    for (int i = 0;; ++i) {
      std::string q = "q" + std::to_string(i);
      if (!(*db)->put_queue(queue("/", q)).ok()) ::_exit(2);
      if (!(*db)->add_binding(binding("/", "ex", q, DestinationKind::kQueue, q)).ok()) ::_exit(3);
    }
  }
  ::usleep(300 * 1000);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto db = open_db(path, false);
  auto all = db->load_all();
  ASSERT_TRUE(all.ok());
  const auto& d = all->defs;
  ASSERT_GT(d.queues.size(), 0u);
  // Every queue before the last has its binding; ids are dense and names in order.
  EXPECT_GE(d.bindings.size() + 1, d.queues.size());
  EXPECT_LE(d.bindings.size(), d.queues.size());
  for (size_t i = 0; i < d.queues.size(); ++i) {
    EXPECT_EQ(d.queues[i].name, "q" + std::to_string(i));
  }
  EXPECT_TRUE(db->put_vhost(vhost("/")).ok());  // writable after the crash
}

TEST(DefinitionsStore, RefusesMissingForeignCorruptAndNewerDatabases) {
  TempDir tmp;
  auto missing = DefinitionsStore::open(tmp.sub("none.db"), false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().text.find("missing"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("none.db")));

  testing::spit(tmp.sub("garbage.db"), bytes(std::string(5000, 'g')));
  auto garbage = DefinitionsStore::open(tmp.sub("garbage.db"), false);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().text.find("corrupt or not a database"), std::string::npos)
      << garbage.error().text;

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(tmp.sub("foreign.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto foreign = DefinitionsStore::open(tmp.sub("foreign.db"), true);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().text.find("not a Pulse definitions database"), std::string::npos);

  { open_db(tmp.sub("newer.db")); }
  ASSERT_EQ(sqlite3_open(tmp.sub("newer.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version=2", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto newer = DefinitionsStore::open(tmp.sub("newer.db"), false);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().text.find("schema version 2"), std::string::npos);
}

TEST(DefinitionsStore, TruncatedDatabaseIsRefused) {
  TempDir tmp;
  std::string path = tmp.sub("defs.db");
  {
    auto db = open_db(path);
    ASSERT_TRUE(db->transaction([&]() -> Status {
                    for (int i = 0; i < 3000; ++i) {
                      std::string n = "queue-with-a-long-name-" + std::to_string(i);
                      if (auto r = db->put_queue(queue("/", n, table("x-padding-argument", 1)));
                          !r) {
                        return std::move(r).error();
                      }
                    }
                    return ok_status();
                  }).ok());
  }
  auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 100000u);
  std::filesystem::resize_file(path, size / 2);
  auto db = DefinitionsStore::open(path, false);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().text.find("refusing to start"), std::string::npos) << db.error().text;
}

}  // namespace
}  // namespace pulse::store
