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
    ASSERT_TRUE(db->put_vhost({"/", R"({"description":"default"})"}).ok());
    ASSERT_TRUE(db->put_user({"guest",
                              "aGFzaA==",
                              "rabbit_password_hashing_sha256",
                              {"administrator", "management"}})
                    .ok());
    ASSERT_TRUE(db->put_permission({"guest", "/", ".*", ".*", ".*"}).ok());
    ASSERT_TRUE(db->put_topic_permission({"guest", "/", "amq.topic", "^a", "^b"}).ok());
    ASSERT_TRUE(db->put_exchange({"/", "ex", "topic", true, false, true, {1, 2, 0, 3}}).ok());
    auto id = db->put_queue({0, "/", "q", "classic", true, false, {}});
    ASSERT_TRUE(id.ok());
    qid = *id;
    ASSERT_TRUE(db->add_binding({"/", "ex", "q", false, "a.#", {9}}).ok());
    ASSERT_TRUE(db->add_binding({"/", "ex", "q", false, "a.#", {9}}).ok());  // idempotent
    ASSERT_TRUE(db->add_binding({"/", "ex", "q", false, "a.#", {}}).ok());   // other args
    ASSERT_TRUE(db->put_policy({"/", "ttl", "^q", "queues", 5, R"({"message-ttl":1})"}).ok());
    ASSERT_TRUE(db->put_kv({"pulse.owner", "exchange///ex", bytes("alice")}).ok());
  }
  auto db = open_db(path, false);
  auto d = db->load_all();
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->vhosts.size(), 1u);
  EXPECT_EQ(d->vhosts[0].metadata, R"({"description":"default"})");
  ASSERT_EQ(d->users.size(), 1u);
  EXPECT_EQ(d->users[0].tags, (std::vector<std::string>{"administrator", "management"}));
  EXPECT_EQ(d->users[0].hashing_algorithm, "rabbit_password_hashing_sha256");
  ASSERT_EQ(d->permissions.size(), 1u);
  EXPECT_EQ(d->permissions[0].write, ".*");
  ASSERT_EQ(d->topic_permissions.size(), 1u);
  EXPECT_EQ(d->topic_permissions[0].read, "^b");
  ASSERT_EQ(d->exchanges.size(), 1u);
  EXPECT_TRUE(d->exchanges[0].internal);
  EXPECT_EQ(d->exchanges[0].arguments, (std::vector<uint8_t>{1, 2, 0, 3}));
  ASSERT_EQ(d->queues.size(), 1u);
  EXPECT_EQ(d->queues[0].id, qid);
  ASSERT_EQ(d->bindings.size(), 2u);
  EXPECT_EQ(d->bindings[0].arguments, (std::vector<uint8_t>{9}));
  EXPECT_TRUE(d->bindings[1].arguments.empty());
  ASSERT_EQ(d->policies.size(), 1u);
  EXPECT_EQ(d->policies[0].priority, 5);
  ASSERT_EQ(d->kv.size(), 1u);
  EXPECT_EQ(d->kv[0].value, bytes("alice"));
}

TEST(DefinitionsStore, QueueIdsAreStableAcrossRedeclareAndNewAfterDelete) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  auto a = db->put_queue({0, "/", "q", "classic", true, false, {}});
  auto b = db->put_queue({0, "/", "q", "classic", true, true, {7}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  ASSERT_TRUE(db->delete_queue("/", "q").ok());
  auto c = db->put_queue({0, "/", "q", "classic", true, false, {}});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*c, *a);  // a recreated queue never inherits the old message directory
}

TEST(DefinitionsStore, DeletesCascade) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  for (const char* vh : {"a", "b"}) {
    ASSERT_TRUE(db->put_vhost({vh, ""}).ok());
    ASSERT_TRUE(db->put_permission({"u", vh, "", "", ""}).ok());
    ASSERT_TRUE(db->put_exchange({vh, "x", "direct", true, false, false, {}}).ok());
    ASSERT_TRUE(db->put_exchange({vh, "y", "fanout", true, false, false, {}}).ok());
    ASSERT_TRUE(db->put_queue({0, vh, "q", "classic", true, false, {}}).ok());
    ASSERT_TRUE(db->add_binding({vh, "x", "q", false, "k", {}}).ok());
    ASSERT_TRUE(db->add_binding({vh, "x", "y", true, "k", {}}).ok());
    ASSERT_TRUE(db->put_policy({vh, "p", ".*", "all", 0, "{}"}).ok());
  }
  ASSERT_TRUE(db->put_user({"u", "", "", {}}).ok());
  ASSERT_TRUE(db->delete_vhost("a").ok());
  auto d = db->load_all();
  EXPECT_EQ(d->vhosts.size(), 1u);
  EXPECT_EQ(d->permissions.size(), 1u);
  EXPECT_EQ(d->exchanges.size(), 2u);
  EXPECT_EQ(d->queues.size(), 1u);
  EXPECT_EQ(d->bindings.size(), 2u);
  EXPECT_EQ(d->policies.size(), 1u);
  ASSERT_TRUE(db->delete_queue("b", "q").ok());
  EXPECT_EQ(db->load_all()->bindings.size(), 1u);
  ASSERT_TRUE(db->delete_exchange("b", "y").ok());  // as destination
  EXPECT_EQ(db->load_all()->bindings.size(), 0u);
  ASSERT_TRUE(db->delete_user("u").ok());
  EXPECT_TRUE(db->load_all()->permissions.empty());
  ASSERT_TRUE(db->delete_binding({"b", "x", "q", false, "k", {}}).ok());  // absent: fine
}

TEST(DefinitionsStore, FailedTransactionChangesNothing) {
  TempDir tmp;
  auto db = open_db(tmp.sub("defs.db"));
  Status s = db->transaction([&]() -> Status {
    if (auto e = db->put_vhost({"v", ""}); !e) return e;
    if (auto e = db->put_exchange({"v", "x", "direct", true, false, false, {}}); !e) return e;
    return Error{406, "PRECONDITION_FAILED - import aborted"};
  });
  EXPECT_FALSE(s.ok());
  auto d = db->load_all();
  EXPECT_TRUE(d->vhosts.empty());
  EXPECT_TRUE(d->exchanges.empty());
  ASSERT_TRUE(db->transaction([&]() -> Status { return db->put_vhost({"v", ""}); }).ok());
  EXPECT_EQ(db->load_all()->vhosts.size(), 1u);
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
      if (!(*db)->put_queue({0, "/", q, "classic", true, false, {}}).ok()) ::_exit(2);
      if (!(*db)->add_binding({"/", "ex", q, false, q, {}}).ok()) ::_exit(3);
    }
  }
  ::usleep(300 * 1000);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto db = open_db(path, false);
  auto d = db->load_all();
  ASSERT_TRUE(d.ok());
  ASSERT_GT(d->queues.size(), 0u);
  // Every queue before the last has its binding; ids are dense and names in order.
  EXPECT_GE(d->bindings.size() + 1, d->queues.size());
  EXPECT_LE(d->bindings.size(), d->queues.size());
  for (size_t i = 0; i < d->queues.size(); ++i) {
    EXPECT_EQ(d->queues[i].name, "q" + std::to_string(i));
  }
  EXPECT_TRUE(db->put_vhost({"/", ""}).ok());  // writable after the crash
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
                      if (auto r = db->put_queue(
                              {0, "/", n, "classic", true, false, std::vector<uint8_t>(64, 1)});
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
