// Line shapes from mozlog's TBPL formatter and mozharness' error lists, as treeherder's log
// parser read them; our own matching code (RE2 for the patterns, never std::regex).
#include "log_parser.h"

#include <re2/re2.h>

#include <cstdlib>

namespace pulse::logparser {

namespace {

// Compiled once, shared by every Parser (RE2 matching is thread-safe).
struct Patterns {
  // The status word of a TBPL line; must start the line or follow a space (mochitest's
  // "12 INFO TEST-...", reftest's "REFTEST TEST-...", mozharness' "INFO - TEST-...").
  RE2 unexpected{R"((?:^|\s)TEST-UNEXPECTED-([A-Z]+) \| )"};
  RE2 crash{R"((?:^|\s)PROCESS-CRASH \| )"};
  RE2 start{R"((?:^|\s)TEST-START \| ([^|]*?)\s*(?:$| \|))"};
  RE2 leaked{R"((\d+) bytes leaked|leaked (\d+) bytes)"};
};

const Patterns& patterns() {
  static const Patterns p;
  return p;
}

// Cuts at `max` bytes without splitting a UTF-8 sequence.
std::string clip(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// "<test> | <message>": the test is the field up to the next " | ", the message the rest.
void split_fields(std::string_view rest, std::string_view& test, std::string_view& message) {
  const size_t bar = rest.find(" | ");
  if (bar == std::string_view::npos) {
    test = trim(rest);
    message = {};
  } else {
    test = trim(rest.substr(0, bar));
    message = trim(rest.substr(bar + 3));
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The end of the match of `re` in `text` (npos when none); `group` receives its first group.
size_t find_end(const RE2& re, std::string_view text, std::string_view* group = nullptr) {
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece m[2];
  const int groups = group ? 2 : 1;
  if (!re.Match(input, 0, text.size(), RE2::UNANCHORED, m, groups)) return std::string_view::npos;
  if (group) *group = std::string_view(m[1].data(), m[1].size());
  return static_cast<size_t>(m[0].data() - text.data()) + m[0].size();
}

}  // namespace

Parser::Parser(ParserOptions options) : options_(options) {
  if (options_.max_line_bytes == 0) options_.max_line_bytes = 1;
}

void Parser::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const size_t nl = chunk.find('\n');
    const std::string_view piece = chunk.substr(0, nl);
    if (!partial_cut_) {
      const size_t room = options_.max_line_bytes - partial_.size();
      if (piece.size() > room) {
        partial_.append(piece.substr(0, room));
        partial_cut_ = true;
      } else {
        partial_.append(piece);
      }
    }
    if (nl == std::string_view::npos) return;
    if (partial_cut_) ++counts_.long_lines;
    line(partial_);
    partial_.clear();
    partial_cut_ = false;
    chunk.remove_prefix(nl + 1);
  }
}

void Parser::finish() {
  if (partial_.empty() && !partial_cut_) return;
  if (partial_cut_) ++counts_.long_lines;
  line(partial_);
  partial_.clear();
  partial_cut_ = false;
}

void Parser::add(Failure f) {
  ++counts_.failures;
  if (failures_.size() < options_.max_failures) failures_.push_back(std::move(f));
}

void Parser::line(std::string_view text) {
  ++counts_.lines;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  const Patterns& p = patterns();
  // Cheap filters first: most lines of a log contain none of these.
  const bool maybe_tbpl = text.find("TEST-") != std::string_view::npos;
  const bool maybe_crash = text.find("PROCESS-CRASH") != std::string_view::npos;
  const bool maybe_assert = text.find("ASSERTION: ") != std::string_view::npos ||
                            text.find("Assertion failure: ") != std::string_view::npos;
  if (!maybe_tbpl && !maybe_crash && !maybe_assert) return;

  std::string_view group;
  if (maybe_tbpl) {
    if (size_t end = find_end(p.start, text, &group); end != std::string_view::npos) {
      current_test_ = clip(trim(group), options_.max_message_bytes);
      return;
    }
    if (size_t end = find_end(p.unexpected, text, &group); end != std::string_view::npos) {
      const std::string status = lower(group);
      std::string_view test, message;
      split_fields(text.substr(end), test, message);
      Failure f;
      f.line = counts_.lines;
      f.test = clip(test, options_.max_message_bytes);
      f.message = clip(message, options_.max_message_bytes);
      re2::StringPiece a, b;
      const bool has_bytes =
          RE2::PartialMatch(re2::StringPiece(message.data(), message.size()), p.leaked, &a, &b);
      if (test == "leakcheck" || test.find("LeakSanitizer") != std::string_view::npos ||
          has_bytes) {
        f.kind = "leak";
        if (has_bytes) {
          const re2::StringPiece digits = a.empty() ? b : a;
          f.leaked_bytes =
              std::strtoull(std::string(digits.data(), digits.size()).c_str(), nullptr, 10);
        }
        ++counts_.leaks;
      } else {
        f.kind = "unexpected-" + status;
        ++counts_.unexpected;
      }
      add(std::move(f));
      return;
    }
  }
  if (maybe_crash) {
    if (size_t end = find_end(p.crash, text); end != std::string_view::npos) {
      std::string_view test, message;
      split_fields(text.substr(end), test, message);
      Failure f;
      f.line = counts_.lines;
      f.kind = "process-crash";
      f.test = clip(test, options_.max_message_bytes);
      f.message = clip(message, options_.max_message_bytes);
      if (const size_t at = message.find("[@ "); at != std::string_view::npos) {
        std::string_view sig = message.substr(at + 3);
        if (const size_t close = sig.rfind(']'); close != std::string_view::npos) {
          sig = sig.substr(0, close);
        }
        f.signature = clip(trim(sig), options_.max_message_bytes);
      }
      ++counts_.crashes;
      add(std::move(f));
      return;
    }
  }
  if (maybe_assert) {
    size_t at = text.find("###!!! ASSERTION: ");
    size_t skip = 18;
    if (at == std::string_view::npos) {
      at = text.find("Assertion failure: ");
      skip = 19;
    }
    if (at == std::string_view::npos) return;
    Failure f;
    f.line = counts_.lines;
    f.kind = "assertion";
    f.test = current_test_;
    f.message = clip(trim(text.substr(at + skip)), options_.max_message_bytes);
    ++counts_.assertions;
    add(std::move(f));
  }
}

Parser parse_log(std::string_view text, ParserOptions options) {
  Parser p(options);
  p.feed(text);
  p.finish();
  return p;
}

}  // namespace pulse::logparser
