// The committed generated codec must be exactly what tools/codegen produces from the spec, so
// hand edits to src/amqp/generated (or a spec change without regenerating) fail here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

bool have(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Codegen, CommittedOutputMatchesTheGenerator) {
  if (!have("python3") || !have("clang-format")) GTEST_SKIP() << "python3 or clang-format missing";
  const fs::path root = PULSE_SOURCE_DIR;
  const fs::path committed = root / "src/amqp/generated";
  const fs::path tmp =
      fs::temp_directory_path() /
      ("pulse-regen-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
       std::to_string(reinterpret_cast<uintptr_t>(&tmp)));
  fs::remove_all(tmp);
  const std::string cmd =
      "'" + (root / "tools/codegen/regen.sh").string() + "' '" + tmp.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  size_t compared = 0;
  for (const auto& e : fs::directory_iterator(tmp)) {
    const fs::path mine = committed / e.path().filename();
    ASSERT_TRUE(fs::exists(mine)) << mine << " is generated but not committed";
    EXPECT_TRUE(slurp(e.path()) == slurp(mine))
        << mine << " differs from the generator output; run tools/codegen/regen.sh";
    ++compared;
  }
  for (const auto& e : fs::directory_iterator(committed)) {
    EXPECT_TRUE(fs::exists(tmp / e.path().filename()))
        << e.path() << " is in src/amqp/generated but the generator does not produce it";
  }
  EXPECT_GE(compared, 5u);
  fs::remove_all(tmp);
}

}  // namespace
