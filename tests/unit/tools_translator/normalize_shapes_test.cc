// Routing-key shapes of pulsetranslator's other branches (tests, talos, l10n, emulator, ignored
// and malformed messages), on small messages modelled on the buildbot ones.
#include <gtest/gtest.h>

#include "normalize.h"
#include "normalize_params.h"

using nlohmann::json;
using pulse::translator::normalize;
using pulse::translator::NormalizeResult;
using pulse::translator::Outcome;

namespace {

constexpr int64_t kShapesNow = 1446638400;

NormalizeResult run(const std::string& key, json props, json results = 0) {
  json msg = {{"_meta", {{"exchange", "exchange/build/"}, {"routing_key", key}}},
              {"payload", {{"build", {{"results", results}, {"properties", props}}}}}};
  return normalize(msg, key, kShapesNow);
}

json test_props(const std::string& builder, const std::string& platform) {
  return json::array({{"branch", "mozilla-central", "Builder"},
                      {"buildername", builder, "Builder"},
                      {"platform", platform, "Builder"},
                      {"product", "Firefox", "Builder"},
                      {"buildid", "20151104025835", "Step"},
                      {"buildnumber", 7, "Build"},
                      {"log_url", "http://logs.example/x.txt.gz", "postrun.py"}});
}

TEST(TranslatorShapes, UnitTestKeyFromTheBuilderName) {
  auto r = run("build.mozilla-central_ubuntu64_vm-debug_test-mochitest-1.42.log_uploaded",
               test_props("Ubuntu VM 12.04 x64 mozilla-central debug test mochitest-1", "linux64"));
  ASSERT_EQ(r.outcome, Outcome::kPublish) << r.reason;
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].routing_key,
            "unittest.mozilla-central.linux64.ubuntu64_vm.debug.mochitest-1.firefox."
            "mozilla-central_ubuntu64_vm-debug_test-mochitest-1");
  const json& p = r.outputs[0].payload;
  EXPECT_EQ(p["os"], "ubuntu64_vm");
  EXPECT_EQ(p["test"], "mochitest-1");
  EXPECT_EQ(p["talos"], false);
  EXPECT_EQ(p["insertion_time"], kShapesNow);
  EXPECT_EQ(p["timestamp"], "2015-11-04T12:00:00Z");
  EXPECT_EQ(p["buildtype"], "debug");
  EXPECT_EQ(p["job_number"], 7);
  EXPECT_EQ(p["builddate"], 1446605915);
  EXPECT_FALSE(p.contains("tags"));
}

TEST(TranslatorShapes, TalosOnMacConvertsTheOsFromTheBuilderName) {
  auto r = run("build.mozilla-central_macosx64_test-tp5o.3.log_uploaded",
               test_props("Rev4 MacOSX Snow Leopard 10.6 mozilla-central talos tp5o", "macosx64"));
  // No "OS X 10.x" in the builder name: OS "unknown", which macosx64 does not run.
  EXPECT_EQ(r.outcome, Outcome::kBad);
  EXPECT_TRUE(r.outputs.empty());
  // "OS X 10.6" (with the spaces pulsetranslator's pattern allows) gives snowleopard.
  r = run("build.mozilla-central_macosx64_test-tp5o.3.log_uploaded",
          test_props("Rev4 MacOSX OS X 10.6 mozilla-central talos tp5o", "macosx64"));
  ASSERT_EQ(r.outcome, Outcome::kPublish) << r.reason;
  EXPECT_EQ(r.outputs.at(0).routing_key,
            "talos.mozilla-central.macosx64.snowleopard.opt.tp5o.firefox.mozilla-central_"
            "macosx64_test-tp5o");
  EXPECT_EQ(r.outputs.at(0).payload["talos"], true);
}

TEST(TranslatorShapes, PgoTestWithStagePlatformAndNoProduct) {
  json props = test_props("Windows 7 32-bit mozilla-central pgo test reftest", "win32");
  props.push_back({"stage_platform", "win32-pgo", "Step"});
  props.erase(3);  // no product: the key says "unknown"
  auto r = run("build.mozilla-central_win7_ix-pgo_test-reftest.9.log_uploaded", props);
  ASSERT_EQ(r.outcome, Outcome::kPublish) << r.reason;
  EXPECT_EQ(r.outputs.at(0).routing_key,
            "unittest.mozilla-central.win32.win7_ix.pgo.reftest.unknown."
            "mozilla-central_win7_ix-pgo_test-reftest");
  EXPECT_TRUE(r.outputs.at(0).payload["product"].is_null());
}

TEST(TranslatorShapes, TestsFinishedAndUnknownOsAreNotPublished) {
  auto r = run("build.mozilla-central_ubuntu64_vm_test-xpcshell.1.finished",
               test_props("Ubuntu VM 12.04 x64 mozilla-central opt test xpcshell", "linux64"));
  EXPECT_EQ(r.outcome, Outcome::kIgnored);
  EXPECT_TRUE(r.outputs.empty());
  r = run("build.mozilla-central_plan9_test-xpcshell.1.log_uploaded",
          test_props("Plan 9 mozilla-central opt test xpcshell", "linux64"));
  EXPECT_EQ(r.outcome, Outcome::kBad);
  EXPECT_TRUE(r.outputs.empty());
  json no_log = test_props("Ubuntu VM 12.04 x64 mozilla-central opt test xpcshell", "linux64");
  no_log.erase(6);
  r = run("build.mozilla-central_ubuntu64_vm_test-xpcshell.1.log_uploaded", no_log);
  EXPECT_EQ(r.outcome, Outcome::kBad);
}

json build_props(const std::string& platform) {
  return json::array({{"branch", "mozilla-central", "Builder"},
                      {"platform", platform, "Builder"},
                      {"product", "firefox", "Builder"},
                      {"locale", "pl", "Step"},
                      {"packageUrl", "http://archive.example/firefox.tar.bz2", "Step"},
                      {"log_url", "http://logs.example/b.txt.gz", "postrun.py"}});
}

TEST(TranslatorShapes, L10nBuildKeyCarriesTheLocaleAfterTheTag) {
  auto r = run("build.mozilla-central-linux64-l10n-dep.22.log_uploaded", build_props("linux64"));
  ASSERT_EQ(r.outcome, Outcome::kPublish) << r.reason;
  EXPECT_EQ(r.outputs.at(0).routing_key,
            "build.mozilla-central.linux64.opt.l10n.pl.dep.mozilla-central-linux64-l10n-dep");
  EXPECT_EQ(r.outputs.at(0).payload["tags"], json({"l10n", "dep"}));
}

TEST(TranslatorShapes, ReleaseXulrunnerAndEmulatorBuilds) {
  json props = build_props("linux");
  props[0][1] = "releases/mozilla-beta";  // a path: the tree is its last part
  auto r = run("build.release-mozilla-beta-xulrunner_linux_build.11.log_uploaded", props);
  ASSERT_EQ(r.outcome, Outcome::kPublish) << r.reason;
  EXPECT_EQ(r.outputs.at(0).routing_key,
            "build.mozilla-beta.linux.opt.build.release.release-mozilla-beta-xulrunner_linux_"
            "build");
  EXPECT_EQ(r.outputs.at(0).payload["product"], "xulrunner");
  EXPECT_EQ(r.outputs.at(0).payload["tree"], "mozilla-beta");

  json emu = build_props("emulator");
  emu.erase(4);  // no package URL: guessed for emulators
  emu.push_back({"buildid", "20151104025835", "Step"});
  r = run("build.mozilla-central-emulator-debug.5.log_uploaded", emu);
  ASSERT_EQ(r.outcome, Outcome::kPublish) << r.reason;
  EXPECT_EQ(r.outputs.at(0).routing_key,
            "build.mozilla-central.emulator.debug.mozilla-central-emulator-debug");
  EXPECT_EQ(r.outputs.at(0).payload["buildurl"],
            "https://pvtbuilds.mozilla.org/pub/mozilla.org/b2g/tinderbox-builds/"
            "mozilla-central-emulator/20151104025835/emulator.tar.gz");
}

TEST(TranslatorShapes, IgnoredAndMalformedBuilds) {
  EXPECT_EQ(run("build.mozilla-central-linux64.105.finished", build_props("linux64")).outcome,
            Outcome::kIgnored);
  EXPECT_EQ(
      run("build.release-mozilla-beta-fennec_tag.40.log_uploaded", build_props("linux")).outcome,
      Outcome::kIgnored);
  EXPECT_EQ(run("build.mozilla-central-nexus-4.1.log_uploaded", build_props("nexus-4")).outcome,
            Outcome::kIgnored);
  EXPECT_EQ(run("build.mozilla-central-linux64-asan-weird.1.log_uploaded", build_props("linux64"))
                .outcome,
            Outcome::kBad);  // unknown tag "asan"
  json no_branch = build_props("linux64");
  no_branch.erase(0);
  EXPECT_EQ(run("build.mozilla-central-linux64.1.log_uploaded", no_branch).outcome, Outcome::kBad);
  json bad_type = build_props("linux64");
  bad_type[2][1] = 5;  // product must be a string
  EXPECT_EQ(run("build.mozilla-central-linux64.1.log_uploaded", bad_type).outcome, Outcome::kError);
  EXPECT_EQ(normalize(json::array(), "k", kShapesNow).outcome, Outcome::kBad);
  EXPECT_EQ(normalize(json{{"_meta", {{"routing_key", "x"}}}}, "x", kShapesNow).outcome,
            Outcome::kBad);
}

TEST(TranslatorShapes, RepackStopsAtAnEmptyLocaleKeepingThoseBefore) {
  json props = build_props("win32");
  props.erase(4);  // repacks have no package URL
  props[0][1] = "release-mozilla-beta";
  props.push_back({"locales", "de,,fr", "Step"});
  auto r = run("build.release-mozilla-beta-win32_repack_2.16.log_uploaded", props);
  EXPECT_EQ(r.outcome, Outcome::kBad);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].payload["locale"], "de");
  EXPECT_EQ(r.outputs[0].payload["repack"], true);
}

TEST(TranslatorShapes, ParamsHelpers) {
  using namespace pulse::translator;
  EXPECT_EQ(strip_buildtype("linux64-pgo"), "linux64");
  EXPECT_EQ(strip_buildtype("win32"), "win32");
  EXPECT_EQ(guess_platform("build.foo-win32_gecko-bar"), "win32_gecko");
  EXPECT_EQ(guess_platform("build.foo-bar"), std::nullopt);
  EXPECT_EQ(buildid_epoch("20151104025835"), 1446605915);
  EXPECT_EQ(buildid_epoch("2015-11-04"), std::nullopt);
}

}  // namespace
