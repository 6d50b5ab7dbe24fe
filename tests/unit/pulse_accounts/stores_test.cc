// The records and the three stores: memory, JSON file, pulsed's definitions store (kv scope
// "pulse.owner").
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pulse/accounts/account_store.h"
#include "pulse/accounts/model.h"
#include "pulse/accounts_kv/kv_account_store.h"
#include "store/definitions_store.h"

namespace pulse::accounts {
namespace {

const TimePoint t0 = Clock::from_time_t(1'800'000'000) + std::chrono::milliseconds(123);

NamespaceClaim sample_claim() {
  NamespaceClaim c;
  c.ns = "tc";
  c.expires = t0 + std::chrono::hours(24);
  c.contact = "ops@example.com";
  c.users = {"tc-1", "tc-2"};
  c.current = 1;
  c.password = "secret9";
  c.created = t0;
  c.last_rotation = t0 + std::chrono::hours(1);
  return c;
}

std::vector<Record> sample_records() {
  return {to_record(Owner{"a@example.com", "A", true, t0}),
          to_record(PulseUser{"alice", {"a@example.com", "b@example.com"}, t0, "bot"}),
          to_record(sample_claim())};
}

void expect_round_trip(AccountStore& store) {
  for (const auto& r : sample_records()) ASSERT_TRUE(store.put(r).ok());
  auto loaded = store.load_all();
  ASSERT_TRUE(loaded.ok()) << loaded.error().text;
  auto state = parse_records(*loaded);
  ASSERT_TRUE(state.ok()) << state.error().text;
  ASSERT_EQ(state->owners.size(), 1u);
  EXPECT_EQ(state->owners[0], (Owner{"a@example.com", "A", true, t0}));
  ASSERT_EQ(state->users.size(), 1u);
  EXPECT_EQ(state->users[0], (PulseUser{"alice", {"a@example.com", "b@example.com"}, t0, "bot"}));
  ASSERT_EQ(state->claims.size(), 1u);
  EXPECT_EQ(state->claims[0], sample_claim());

  ASSERT_TRUE(store.remove("user/alice").ok());
  ASSERT_TRUE(store.remove("user/alice").ok());  // missing: no error
  auto after = store.load_all();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);
}

TEST(AccountRecords, DamagedRecordsAreErrorsNamingTheKey) {
  auto err = [](Record r) {
    auto s = parse_records({std::move(r)});
    return s ? std::string() : s.error().text;
  };
  EXPECT_NE(err({"owner/x", "not json"}).find("owner/x"), std::string::npos);
  EXPECT_NE(
      err({"owner/x", R"({"email": 3, "created": "2027-01-15T08:00:00.000Z"})"}).find("'email'"),
      std::string::npos);
  EXPECT_NE(
      err({"user/u", R"({"name": "u", "owners": [], "created": "yesterday"})"}).find("'created'"),
      std::string::npos);
  EXPECT_NE(err({"owner/x", R"({"email": "y", "created": "2027-01-15T08:00:00.000Z"})"})
                .find("does not match"),
            std::string::npos);
  EXPECT_NE(err({"what/x", "{}"}).find("unknown kind"), std::string::npos);
  Record bad_claim = to_record(sample_claim());
  bad_claim.json.replace(bad_claim.json.find("\"current\":1"), 11, "\"current\":2");
  EXPECT_NE(err(bad_claim).find("'current'"), std::string::npos);
}

TEST(AccountStores, Memory) {
  MemoryAccountStore store;
  expect_round_trip(store);
}

class TempDir : public ::testing::Test {
 protected:
  TempDir()
      : dir(std::filesystem::temp_directory_path() /
            ("pulse_accounts_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDir() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

using AccountFileStore = TempDir;

TEST_F(AccountFileStore, RoundTripPrivateFileAndReload) {
  const std::string path = (dir / "accounts.json").string();
  {
    JsonFileAccountStore store(path);
    auto empty = store.load_all();
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    expect_round_trip(store);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // claim records hold passwords
  JsonFileAccountStore again(path);
  auto loaded = again.load_all();
  ASSERT_TRUE(loaded.ok());
  auto state = parse_records(*loaded);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->claims.at(0), sample_claim());
  EXPECT_TRUE(state->users.empty());
}

// pulse-guardian's state file: the accounts and the guardian's API layer in one file, each
// scope seeing only its own records, both back after a reload.
TEST_F(AccountFileStore, ScopesShareOneFile) {
  const std::string path = (dir / "state.json").string();
  {
    JsonFileAccountStore file(path);
    ScopedAccountStore owners(file, "pulse.owner"), guardian(file, "pulse.guardian");
    ASSERT_TRUE(owners.put(Record{"settings", R"({"a":1})"}));
    ASSERT_TRUE(guardian.put(Record{"settings", R"({"g":2})"}));
    ASSERT_TRUE(guardian.put(Record{"unbounded/x", R"({})"}));
    ASSERT_TRUE(guardian.remove("unbounded/x"));
  }
  JsonFileAccountStore file(path);
  ScopedAccountStore owners(file, "pulse.owner"), guardian(file, "pulse.guardian");
  auto o = owners.load_all();
  auto g = guardian.load_all();
  ASSERT_TRUE(o && g);
  EXPECT_EQ(*o, (std::vector<Record>{{"settings", R"({"a":1})"}}));
  EXPECT_EQ(*g, (std::vector<Record>{{"settings", R"({"g":2})"}}));
}

TEST_F(AccountFileStore, DamagedOrUnwritableFilesAreErrors) {
  const std::string path = (dir / "accounts.json").string();
  std::ofstream(path) << "[1, 2";
  JsonFileAccountStore store(path);
  auto loaded = store.load_all();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().text.find(path), std::string::npos);
  EXPECT_FALSE(store.put(sample_records()[0]).ok());

  JsonFileAccountStore nowhere((dir / "missing-dir" / "accounts.json").string());
  auto put = nowhere.put(sample_records()[0]);
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().text.find("missing-dir"), std::string::npos);
  auto after = nowhere.load_all();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());  // a failed put leaves nothing behind
}

using AccountKvStore = TempDir;

TEST_F(AccountKvStore, RecordsAreKvRowsOfScopePulseOwner) {
  const std::string db = (dir / "defs.db").string();
  {
    auto defs = store::DefinitionsStore::open(db, true);
    ASSERT_TRUE(defs.ok()) << defs.error().text;
    ASSERT_TRUE((*defs)->put_kv({.scope = "other", .key = "user/x", .value = {'1'}}).ok());
    KvAccountStore store(**defs);
    expect_round_trip(store);
  }
  auto defs = store::DefinitionsStore::open(db, false);
  ASSERT_TRUE(defs.ok());
  auto all = (*defs)->load_all();
  ASSERT_TRUE(all.ok());
  std::vector<std::string> keys;
  for (const auto& e : all->kv)
    if (e.scope == store::kPulseOwnerScope) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"claim/tc", "owner/a@example.com"}));
  KvAccountStore store(**defs);
  auto loaded = store.load_all();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 2u);  // not the other scope's row
  EXPECT_EQ((*loaded)[0], to_record(sample_claim()));
}

}  // namespace
}  // namespace pulse::accounts
