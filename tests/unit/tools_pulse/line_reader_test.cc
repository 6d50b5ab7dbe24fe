#include "line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace pulse::tools {
namespace {

using std::chrono::milliseconds;
using Next = LineReader::Next;

class LineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pipe(fds_), 0); }
  void TearDown() override {
    if (fds_[0] >= 0) close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  void put(const std::string& s) {
    ASSERT_EQ(write(fds_[1], s.data(), s.size()), ssize_t(s.size()));
  }
  void end() {
    close(fds_[1]);
    fds_[1] = -1;
  }
  int fds_[2] = {-1, -1};
};

TEST_F(LineReaderTest, LinesSplitAcrossWritesAndALastLineWithoutNewline) {
  LineReader r(fds_[0]);
  std::string_view line;
  put("{\"a\": 1}\n\n{\"b\"");
  ASSERT_EQ(r.next(line, milliseconds(100)), Next::kLine);
  EXPECT_EQ(line, "{\"a\": 1}");
  ASSERT_EQ(r.next(line, milliseconds(100)), Next::kLine);
  EXPECT_EQ(line, "");
  // Half a line: nothing complete within the timeout.
  EXPECT_EQ(r.next(line, milliseconds(20)), Next::kIdle);
  put(": 2}\r\nlast");
  ASSERT_EQ(r.next(line, milliseconds(100)), Next::kLine);
  EXPECT_EQ(line, "{\"b\": 2}\r");  // CR is trim_line's business
  end();
  ASSERT_EQ(r.next(line, milliseconds(100)), Next::kLine);
  EXPECT_EQ(line, "last");
  EXPECT_EQ(r.next(line, milliseconds(100)), Next::kEnd);
  EXPECT_EQ(r.next(line, milliseconds(100)), Next::kEnd);
}

TEST_F(LineReaderTest, IdleInputWaitsForTheTimeoutOnly) {
  LineReader r(fds_[0]);
  std::string_view line;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(r.next(line, milliseconds(50)), Next::kIdle);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, milliseconds(45));
  EXPECT_LT(waited, milliseconds(1000));
  end();
  EXPECT_EQ(r.next(line, milliseconds(50)), Next::kEnd);
}

TEST_F(LineReaderTest, LongLines) {
  LineReader r(fds_[0]);
  const std::string big(200000, 'x');
  std::string_view line;
  std::string got;
  // The pipe holds less than the line: write it from another process' point of view in parts.
  for (size_t at = 0; at < big.size(); at += 50000) {
    put(big.substr(at, 50000));
    EXPECT_EQ(r.next(line, milliseconds(10)), Next::kIdle);
  }
  put("\n");
  ASSERT_EQ(r.next(line, milliseconds(100)), Next::kLine);
  EXPECT_EQ(line, big);
}

TEST(LineReader, ReadErrorsAreReported) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  close(fds[1]);
  LineReader r(fds[0]);
  std::string_view line;
  // poll(2) flags an invalid descriptor (POLLNVAL), read(2) fails with EBADF.
  EXPECT_EQ(r.next(line, milliseconds(10)), Next::kError);
  EXPECT_EQ(r.error(), EBADF);
}

}  // namespace
}  // namespace pulse::tools
