// The parser over fixture logs modelled on real mozharness / buildbot / taskcluster test logs.
#include "log_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace pulse::logparser {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LOGPARSER_DATA) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << name;
  return s.str();
}

// "line kind | test | message" per failure, for readable comparisons.
std::vector<std::string> lines_of(const Parser& p) {
  std::vector<std::string> out;
  for (const Failure& f : p.failures()) {
    out.push_back(std::to_string(f.line) + " " + f.kind + " | " + f.test + " | " + f.message);
  }
  return out;
}

TEST(LogParser, Mochitest) {
  const Parser p = parse_log(fixture("mochitest.log"));
  EXPECT_EQ(lines_of(p),
            (std::vector<std::string>{
                "15 unexpected-fail | dom/base/test/test_bug123456.html | attribute should be "
                "set - got null, expected \"x\"",
                "19 unexpected-timeout | dom/events/test/test_eventctors.html | Test timed out.",
                "25 leak | leakcheck | default process: 2048 bytes leaked (nsTArray_base, "
                "nsStringBuffer, nsThread)"}));
  EXPECT_EQ(p.failures()[2].leaked_bytes, 2048u);
  EXPECT_EQ(p.counts().unexpected, 2u);
  EXPECT_EQ(p.counts().leaks, 1u);
  EXPECT_EQ(p.counts().lines, 28u);
  EXPECT_FALSE(p.truncated());
}

TEST(LogParser, XpcshellWithTaskclusterPrefix) {
  const Parser p = parse_log(fixture("xpcshell.log"));
  EXPECT_EQ(lines_of(p),
            (std::vector<std::string>{
                "4 unexpected-fail | toolkit/components/places/tests/unit/test_history.js | "
                "xpcshell return code: 0",
                "7 unexpected-fail | toolkit/components/places/tests/unit/test_history.js | "
                "do_check_eq - [do_check_eq : 42] 3 == 4"}));
}

TEST(LogParser, ReftestTestFieldIsTheComparison) {
  const Parser p = parse_log(fixture("reftest.log"));
  ASSERT_EQ(p.failures().size(), 2u);
  const std::string base = "file:///builds/slave/test/build/tests/reftest/tests/layout/reftests/";
  EXPECT_EQ(p.failures()[0].kind, "unexpected-fail");
  EXPECT_EQ(p.failures()[0].test, base + "bugs/123-1.html == " + base + "bugs/123-1-ref.html");
  EXPECT_EQ(p.failures()[0].message,
            "image comparison, max difference: 255, number of differing pixels: 1");
  EXPECT_EQ(p.failures()[1].kind, "unexpected-pass");
  EXPECT_EQ(p.failures()[1].line, 6u);
}

TEST(LogParser, CrashWithSignatureAndFatalAssertion) {
  const Parser p = parse_log(fixture("crash.log"));
  EXPECT_EQ(lines_of(p),
            (std::vector<std::string>{
                "2 assertion | dom/media/test/test_playback.html | mRefCnt > 0 (dup release), at "
                "/builds/slave/m-in-l64-d-0000000000000000/build/src/xpcom/base/"
                "nsISupportsImpl.h:210",
                "4 unexpected-fail | dom/media/test/test_playback.html | application terminated "
                "with exit code 11",
                "5 process-crash | dom/media/test/test_playback.html | application crashed [@ "
                "mozilla::MediaDecoder::Shutdown()]",
                "9 process-crash | automation.py | application crashed [unknown top frame]"}));
  EXPECT_EQ(p.failures()[2].signature, "mozilla::MediaDecoder::Shutdown()");
  EXPECT_EQ(p.failures()[3].signature, "");
  EXPECT_EQ(p.counts().crashes, 2u);
  EXPECT_EQ(p.counts().assertions, 1u);
}

TEST(LogParser, NonFatalAssertionTakesTheCurrentTest) {
  const Parser p = parse_log(fixture("assertion.log"));
  EXPECT_EQ(lines_of(p),
            (std::vector<std::string>{
                "2 assertion | layout/generic/crashtests/crashtest-1.html | Wrong thread!: "
                "'NS_IsMainThread()', file "
                "/builds/worker/workspace/build/src/xpcom/threads/nsThread.cpp, line 987"}));
}

TEST(LogParser, LeakSummaries) {
  const Parser p = parse_log(fixture("leak.log"));
  EXPECT_EQ(lines_of(p),
            (std::vector<std::string>{
                "6 leak | leakcheck | default process: 4096 bytes leaked (nsDocShell, "
                "nsGlobalWindow)",
                "7 leak | automationutils.processLeakLog() | leaked 512 bytes during test "
                "execution"}));
  EXPECT_EQ(p.failures()[0].leaked_bytes, 4096u);
  EXPECT_EQ(p.failures()[1].leaked_bytes, 512u);
}

TEST(LogParser, CleanLogHasNoFailures) {
  const Parser p = parse_log(fixture("clean.log"));
  EXPECT_TRUE(p.failures().empty());
  EXPECT_EQ(p.counts().failures, 0u);
  EXPECT_EQ(p.counts().lines, 7u);
}

TEST(LogParser, CrlfLinesMatchLikeLf) {
  std::string lf = fixture("mochitest.log"), crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(lines_of(parse_log(crlf)), lines_of(parse_log(lf)));
}

TEST(LogParser, ChunksOfAnySizeGiveTheSameResult) {
  const std::string log = fixture("crash.log");
  const auto whole = lines_of(parse_log(log));
  for (size_t step : {1u, 7u, 64u}) {
    Parser p;
    for (size_t i = 0; i < log.size(); i += step) p.feed(std::string_view(log).substr(i, step));
    p.finish();
    EXPECT_EQ(lines_of(p), whole) << "chunks of " << step;
  }
}

TEST(LogParser, LastLineWithoutNewline) {
  const Parser p = parse_log("TEST-START | a.js\nTEST-UNEXPECTED-FAIL | a.js | boom");
  EXPECT_EQ(lines_of(p), (std::vector<std::string>{"2 unexpected-fail | a.js | boom"}));
}

TEST(LogParser, VeryLongLinesAreCutNotBuffered) {
  ParserOptions o;
  o.max_line_bytes = 200;
  o.max_message_bytes = 50;
  const std::string junk(1 << 20, 'x');
  const std::string log = "TEST-UNEXPECTED-FAIL | big.html | " + junk + "\n" + junk + "\n" + junk +
                          " TEST-UNEXPECTED-FAIL | lost.html | past the cut\n" +
                          "TEST-UNEXPECTED-ERROR | after.html | still counted\n";
  Parser p(o);
  for (size_t i = 0; i < log.size(); i += 4096) p.feed(std::string_view(log).substr(i, 4096));
  p.finish();
  EXPECT_EQ(lines_of(p),
            (std::vector<std::string>{"1 unexpected-fail | big.html | " + std::string(50, 'x'),
                                      "4 unexpected-error | after.html | still counted"}));
  EXPECT_EQ(p.counts().long_lines, 3u);
  EXPECT_EQ(p.counts().lines, 4u);
}

TEST(LogParser, MessagesAreCutOnUtf8Boundaries) {
  ParserOptions o;
  o.max_message_bytes = 4;
  const Parser p = parse_log("TEST-UNEXPECTED-FAIL | t | a\xc3\xa9\xc3\xa9\n", o);
  ASSERT_EQ(p.failures().size(), 1u);
  EXPECT_EQ(p.failures()[0].message, "a\xc3\xa9");
}

TEST(LogParser, TruncatedAtTheLimitButEveryFailureCounted) {
  ParserOptions o;
  o.max_failures = 3;
  std::string log;
  for (int i = 0; i < 10; ++i) log += "TEST-UNEXPECTED-FAIL | t" + std::to_string(i) + " | no\n";
  const Parser p = parse_log(log, o);
  ASSERT_EQ(p.failures().size(), 3u);
  EXPECT_EQ(p.failures()[2].test, "t2");
  EXPECT_EQ(p.counts().failures, 10u);
  EXPECT_TRUE(p.truncated());
}

TEST(LogParser, MarkersMustStartAWord) {
  const Parser p = parse_log(
      "xTEST-UNEXPECTED-FAIL | t | glued to a word\n"
      "TEST-UNEXPECTED-FAIL without bars\n"
      "NOT-PROCESS-CRASH | t | no\n"
      "TEST-UNEXPECTED-FAIL | only-a-test\n");
  EXPECT_EQ(lines_of(p), (std::vector<std::string>{"4 unexpected-fail | only-a-test | "}));
}

}  // namespace
}  // namespace pulse::logparser
