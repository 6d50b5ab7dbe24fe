// The translator's durable state: what one run stores is what the next run finds, finished
// inputs stay recognised (a bounded number of them), and a crash mid-way leaves nothing behind
// that would publish twice.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "spool.h"

namespace fs = std::filesystem;
using pulse::translator::input_id;
using pulse::translator::Pending;
using pulse::translator::Spool;

namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("spool-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Spool> open(size_t keep = 100) {
    auto s = Spool::open(dir_.string(), keep);
    EXPECT_TRUE(s) << (s ? "" : s.error().text);
    return s ? std::move(*s) : nullptr;
  }

  static Pending pending(const std::string& id, size_t outputs = 2) {
    Pending p;
    p.id = id;
    p.input_key = "build.x.1.log_uploaded";
    p.log_url = "http://logs/x";
    p.received = 1000;
    for (size_t i = 0; i < outputs; ++i) {
      p.outputs.push_back({"build.x.linux." + std::to_string(i), {{"n", i}}, false});
    }
    return p;
  }

  fs::path dir_;
};

TEST_F(SpoolTest, PendingInputsSurviveARestart) {
  {
    auto s = open();
    ASSERT_TRUE(s->add(pending("a")));
    ASSERT_TRUE(s->mark_published("a", 0));
    EXPECT_TRUE(s->seen("a"));
    EXPECT_FALSE(s->seen("b"));
  }
  auto s = open();
  EXPECT_EQ(s->pending_count(), 1u);
  auto p = s->get("a");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->received, 1000);
  EXPECT_EQ(p->log_url, "http://logs/x");
  ASSERT_EQ(p->outputs.size(), 2u);
  EXPECT_TRUE(p->outputs[0].published);
  EXPECT_FALSE(p->outputs[1].published);
  EXPECT_EQ(p->outputs[1].payload["n"], 1);
  EXPECT_EQ(s->due(0), std::vector<std::string>{"a"});
}

TEST_F(SpoolTest, FinishedInputsAreRecognisedAfterARestart) {
  {
    auto s = open();
    ASSERT_TRUE(s->add(pending("a")));
    ASSERT_TRUE(s->finish("a"));
    EXPECT_EQ(s->pending_count(), 0u);
  }
  auto s = open();
  EXPECT_TRUE(s->seen("a"));
  EXPECT_EQ(s->pending_count(), 0u);
  EXPECT_TRUE(fs::is_empty(dir_ / "pending"));
}

TEST_F(SpoolTest, ACrashBetweenDoneAndUnlinkDoesNotPublishAgain) {
  {
    auto s = open();
    ASSERT_TRUE(s->add(pending("a")));
  }
  std::ofstream(dir_ / "done.log", std::ios::app) << "a\n";  // finish() got this far
  std::ofstream(dir_ / "pending" / "b.json.tmp") << "{";     // and an add() died mid-write
  auto s = open();
  EXPECT_EQ(s->pending_count(), 0u);
  EXPECT_TRUE(s->seen("a"));
  EXPECT_TRUE(fs::is_empty(dir_ / "pending"));
}

TEST_F(SpoolTest, TheDoneRecordIsBounded) {
  {
    auto s = open(3);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(s->add(pending("id" + std::to_string(i), 1)));
      ASSERT_TRUE(s->finish("id" + std::to_string(i)));
    }
    EXPECT_FALSE(s->seen("id0"));
    EXPECT_TRUE(s->seen("id9"));
  }
  auto s = open(3);
  EXPECT_FALSE(s->seen("id5"));
  for (int i = 7; i < 10; ++i) EXPECT_TRUE(s->seen("id" + std::to_string(i))) << i;
  std::ifstream in(dir_ / "done.log");
  size_t lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_LE(lines, 6u);  // compacted at twice the bound
}

TEST_F(SpoolTest, DueHonoursRescheduling) {
  auto s = open();
  ASSERT_TRUE(s->add(pending("a")));
  s->reschedule("a", 50);
  EXPECT_TRUE(s->due(49).empty());
  EXPECT_EQ(s->due(50).size(), 1u);
}

TEST_F(SpoolTest, AnUnreadablePendingFileIsAnError) {
  fs::create_directories(dir_ / "pending");
  std::ofstream(dir_ / "pending" / "x.json") << "not json";
  EXPECT_FALSE(Spool::open(dir_.string()));
}

TEST(InputId, HashesKeyAndBody) {
  EXPECT_EQ(input_id("k", "body"), input_id("k", "body"));
  EXPECT_NE(input_id("k", "body"), input_id("k2", "body"));
  EXPECT_NE(input_id("k", "body"), input_id("k", "body2"));
  EXPECT_EQ(input_id("k", "body").size(), 64u);
}

}  // namespace
