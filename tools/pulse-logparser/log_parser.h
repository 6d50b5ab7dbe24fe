#pragma once
// The failure lines of a Mozilla test log (mozharness / buildbot / taskcluster output), found
// without I/O: the caller feeds the text in chunks of any size (a line may span chunks) and
// calls finish() at the end. Memory stays bounded whatever the log's size: at most
// `max_line_bytes` of the line being assembled and `max_failures` failures are kept.
//
// Recognised (after a mozharness "HH:MM:SS  LEVEL - " or taskcluster "[task ...] " prefix):
//   TEST-UNEXPECTED-<STATUS> | <test> | <message>        kind "unexpected-<status>"
//   TEST-UNEXPECTED-FAIL | leakcheck | ... N bytes leaked  kind "leak" (leaked_bytes = N)
//   PROCESS-CRASH | <test> | application crashed [@ sig]  kind "process-crash" (signature)
//   ###!!! ASSERTION: <text>                              kind "assertion"
//   Assertion failure: <text>                             kind "assertion"
// An assertion has no test of its own: it gets the test of the last "TEST-START | <test>".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::logparser {

struct ParserOptions {
  size_t max_failures = 100;     // kept; later ones only counted (truncated = true)
  size_t max_line_bytes = 8192;  // longer lines are cut there before matching
  size_t max_message_bytes = 1024;
};

struct Failure {
  uint64_t line = 0;  // 1-based line number in the log
  std::string kind;
  std::string test;
  std::string message;
  std::string signature;      // process-crash: the [@ ...] crash signature, if any
  uint64_t leaked_bytes = 0;  // leak: the byte count, if the line has one
};

struct Counts {
  uint64_t lines = 0;
  uint64_t failures = 0;  // all failure lines seen, kept or not
  uint64_t unexpected = 0;
  uint64_t crashes = 0;
  uint64_t assertions = 0;
  uint64_t leaks = 0;
  uint64_t long_lines = 0;  // lines cut at max_line_bytes
};

class Parser {
 public:
  explicit Parser(ParserOptions options = {});

  // Any part of the log; lines end with "\n" ("\r\n" too).
  void feed(std::string_view chunk);
  // The last line, when the log does not end with a newline.
  void finish();

  const std::vector<Failure>& failures() const { return failures_; }
  const Counts& counts() const { return counts_; }
  bool truncated() const { return counts_.failures > failures_.size(); }

 private:
  void line(std::string_view text);
  void add(Failure f);

  ParserOptions options_;
  std::string partial_;       // the line being assembled (at most max_line_bytes)
  bool partial_cut_ = false;  // its tail was dropped
  std::string current_test_;
  std::vector<Failure> failures_;
  Counts counts_;
};

// Convenience: parses a whole log.
Parser parse_log(std::string_view text, ParserOptions options = {});

}  // namespace pulse::logparser
