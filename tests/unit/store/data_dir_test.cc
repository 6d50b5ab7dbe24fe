#include "store/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace pulse::store {
namespace {

using testing::bytes;
using testing::spit;
using testing::TempDir;

TEST(DataDir, InitialisesAnEmptyDirectoryAndReopens) {
  TempDir tmp;
  std::string path = tmp.sub("data");
  {
    auto dir = DataDir::open(path);
    ASSERT_TRUE(dir.ok()) << dir.error().text;
    EXPECT_TRUE((*dir)->initialised_now());
    EXPECT_EQ(testing::slurp(path + "/VERSION"), bytes("pulse-data-layout 1\n"));
    EXPECT_TRUE(std::filesystem::is_directory((*dir)->queues_path()));
    EXPECT_EQ((*dir)->queue_dir(7), path + "/queues/7");
    auto defs = (*dir)->open_definitions();
    ASSERT_TRUE(defs.ok());
    ASSERT_TRUE((*defs)->put_vhost({.name = "/"}).ok());
  }
  auto dir = DataDir::open(path);
  ASSERT_TRUE(dir.ok());
  EXPECT_FALSE((*dir)->initialised_now());
  auto defs = (*dir)->open_definitions();
  ASSERT_TRUE(defs.ok());
  EXPECT_EQ((*defs)->load_all()->defs.vhosts.size(), 1u);
}

TEST(DataDir, RefusesAnotherLayoutVersion) {
  TempDir tmp;
  std::string path = tmp.sub("data");
  { ASSERT_TRUE(DataDir::open(path).ok()); }
  spit(path + "/VERSION", bytes("pulse-data-layout 2\n"));
  auto dir = DataDir::open(path);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().text.find("layout version 2"), std::string::npos) << dir.error().text;
  EXPECT_NE(dir.error().text.find("refusing to start"), std::string::npos);
  spit(path + "/VERSION", bytes("hello\n"));
  EXPECT_FALSE(DataDir::open(path).ok());
  EXPECT_TRUE(std::filesystem::exists(path + "/definitions.db"));  // nothing was reset
}

TEST(DataDir, RefusesForeignOrIncompleteDirectories) {
  TempDir tmp;
  std::string path = tmp.sub("data");
  std::filesystem::create_directories(path);
  spit(path + "/someones_file", bytes("x"));
  auto dir = DataDir::open(path);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().text.find("no VERSION"), std::string::npos);

  std::string other = tmp.sub("other");
  { ASSERT_TRUE(DataDir::open(other).ok()); }
  std::filesystem::remove(other + "/definitions.db");
  auto missing = DataDir::open(other);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().text.find("definitions.db is missing"), std::string::npos);
}

TEST(DataDir, RestartsAnInitialisationThatCrashedBeforeVersion) {
  TempDir tmp;
  std::string path = tmp.sub("data");
  std::filesystem::create_directories(path + "/queues");
  spit(path + "/definitions.db", bytes("half-written"));
  auto dir = DataDir::open(path);
  ASSERT_TRUE(dir.ok()) << dir.error().text;
  EXPECT_TRUE((*dir)->open_definitions().ok());
}

TEST(DataDir, SecondOpenIsLockedOut) {
  TempDir tmp;
  auto first = DataDir::open(tmp.sub("data"));
  ASSERT_TRUE(first.ok());
  auto second = DataDir::open(tmp.sub("data"));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().text.find("in use"), std::string::npos);
}

TEST(DataDir, CorruptDefinitionsAreRefused) {
  TempDir tmp;
  std::string path = tmp.sub("data");
  { ASSERT_TRUE(DataDir::open(path).ok()); }
  spit(path + "/definitions.db", std::vector<uint8_t>(8192, 0xAB));
  auto dir = DataDir::open(path);
  ASSERT_TRUE(dir.ok());
  auto defs = (*dir)->open_definitions();
  ASSERT_FALSE(defs.ok());
  EXPECT_NE(defs.error().text.find("refusing to start"), std::string::npos) << defs.error().text;
  EXPECT_EQ(testing::slurp(path + "/definitions.db"), std::vector<uint8_t>(8192, 0xAB));
}

}  // namespace
}  // namespace pulse::store
