// Every real buildbot message of tests/data/buildbot/ against its golden (what pulsetranslator
// publishes for it, written by make_goldens.py from pulsetranslator's rules, clock fixed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "normalize.h"

namespace fs = std::filesystem;
using nlohmann::json;
using pulse::translator::normalize;

namespace {

constexpr int64_t kNow = 1446638400;  // make_goldens.py's NOW

json read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, false);
}

std::vector<fs::path> fixtures() {
  std::vector<fs::path> out;
  for (const auto& dir : fs::directory_iterator(BUILDBOT_DATA_DIR)) {
    if (!dir.is_directory() || dir.path().filename() == "golden") continue;
    for (const auto& f : fs::directory_iterator(dir.path())) {
      if (f.path().extension() == ".json") out.push_back(f.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TranslatorGolden, EveryFixtureHasItsGoldenOutput) {
  auto all = fixtures();
  ASSERT_EQ(all.size(), 53u) << "the copied buildbot fixtures are missing";
  size_t published = 0;
  for (const auto& f : all) {
    SCOPED_TRACE(f.string());
    json msg = read_json(f);
    ASSERT_FALSE(msg.is_discarded());
    fs::path golden_path =
        fs::path(BUILDBOT_DATA_DIR) / "golden" / f.parent_path().filename() / f.filename();
    ASSERT_TRUE(fs::exists(golden_path)) << "no golden " << golden_path;
    json golden = read_json(golden_path);
    ASSERT_TRUE(golden.contains("outputs"));
    std::string routing_key = f.stem().string();  // the file name less .json
    auto r = normalize(msg, routing_key, kNow);
    const auto& want = golden["outputs"];
    ASSERT_EQ(r.outputs.size(), want.size()) << "reason: " << r.reason;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(r.outputs[i].routing_key, want[i]["routing_key"].get<std::string>());
      EXPECT_EQ(r.outputs[i].payload, want[i]["payload"])
          << "got " << r.outputs[i].payload.dump(1) << "\nwant " << want[i]["payload"].dump(1);
      EXPECT_EQ(r.outputs[i].log_url, want[i]["payload"]["logurl"].get<std::string>());
    }
    published += r.outputs.size();
  }
  EXPECT_EQ(published, 29u + 27u);
}

}  // namespace
