// Every parse error: its kind and the texts an ERROR frame would carry, the same at every split
// point of the input; frames before the bad one are still delivered; a failed parser refuses
// further input.
#include <gtest/gtest.h>

#include "stomp/parser.h"
#include "stomp_test_util.h"

namespace pulse::stomp {
namespace {

using test::frames_of;
using test::parse_events;

struct ErrorCase {
  const char* name;
  std::string input;
  ParseErrorKind kind;
  std::string message;
  std::string detail;
  ParserOptions options{};
  std::optional<Version> version{};
  size_t frames_before = 0;
};

ParserOptions limits(size_t header_bytes, size_t headers, size_t frame) {
  ParserOptions o;
  o.limits = {header_bytes, headers, frame};
  return o;
}

std::vector<ErrorCase> error_cases() {
  using namespace std::string_literals;
  return {
      {"unknown_command", "FOO\n\n\0"s, ParseErrorKind::bad_command, "Bad command",
       "Could not interpret command \"FOO\"\n"},
      {"lower_case_command", "send\n\n\0"s, ParseErrorKind::bad_command, "Bad command",
       "Could not interpret command \"send\"\n"},
      {"binary_command", "\x01\xff\n"s, ParseErrorKind::bad_command, "Bad command",
       "Could not interpret command \"\\x01\\xff\"\n"},
      {"header_without_colon", "SEND\nnocolon\n\n\0"s, ParseErrorKind::bad_header, "Bad header",
       "Header line 'nocolon' has no ':'"},
      {"nul_before_blank_line", "SEND\nk:v\0"s, ParseErrorKind::bad_header, "Bad header",
       "The frame ended (NUL) before the blank line that closes its headers"},
      {"nul_in_command", "SEND\0"s, ParseErrorKind::bad_header, "Bad header",
       "The frame ended (NUL) before the blank line that closes its headers"},
      {"invalid_escape_1_2", "SEND\nk:a\\tb\n\n\0"s, ParseErrorKind::invalid_escape,
       "Invalid escape", "'\\t' is not a valid escape in a STOMP 1.2 header"},
      {"cr_escape_in_1_1",
       "SEND\nk:a\\rb\n\n\0"s,
       ParseErrorKind::invalid_escape,
       "Invalid escape",
       "'\\r' is not a valid escape in a STOMP 1.1 header",
       {},
       Version::v1_1},
      {"escape_in_name", "SEND\nk\\x:v\n\n\0"s, ParseErrorKind::invalid_escape, "Invalid escape",
       "'\\x' is not a valid escape in a STOMP 1.2 header"},
      {"bare_cr_in_header", "SEND\nk:a\rb\n\n\0"s, ParseErrorKind::bad_line_ending,
       "Bad line ending", "A CR must be followed by LF"},
      {"bare_cr_between_frames", "\rX"s, ParseErrorKind::bad_line_ending, "Bad line ending",
       "A CR must be followed by LF"},
      {"content_length_not_a_number", "SEND\ncontent-length:abc\n\n\0"s,
       ParseErrorKind::bad_content_length, "Bad content-length",
       "'abc' is not a valid content-length"},
      {"content_length_negative", "SEND\ncontent-length:-1\n\n\0"s,
       ParseErrorKind::bad_content_length, "Bad content-length",
       "'-1' is not a valid content-length"},
      {"content_length_empty", "SEND\ncontent-length:\n\n\0"s, ParseErrorKind::bad_content_length,
       "Bad content-length", "'' is not a valid content-length"},
      {"content_length_huge", "SEND\ncontent-length:99999999999999999999999\n\n\0"s,
       ParseErrorKind::bad_content_length, "Bad content-length",
       "'99999999999999999999999' is not a valid content-length"},
      {"missing_nul_after_counted_body", "SEND\ncontent-length:2\n\nabc\0"s,
       ParseErrorKind::missing_nul, "Missing NUL",
       "The 2-byte body given by content-length is not followed by NUL"},
      {"headers_too_large", "SEND\nk:0123456789\n\n\0"s, ParseErrorKind::headers_too_large,
       "Headers too large", "The command and headers exceed 10 bytes", limits(10, 100, 1000)},
      {"too_many_headers", "SEND\na:1\nb:2\nc:3\n\n\0"s, ParseErrorKind::too_many_headers,
       "Too many headers", "The frame has more than 2 headers", limits(1000, 2, 1000)},
      {"content_length_over_frame_limit", "SEND\ncontent-length:100\n\n"s,
       ParseErrorKind::frame_too_large, "Frame too large",
       "content-length 100 makes the frame exceed 50 bytes", limits(1000, 100, 50)},
      {"body_over_frame_limit", "SEND\n\n" + std::string(60, 'x'), ParseErrorKind::frame_too_large,
       "Frame too large", "The frame exceeds 50 bytes", limits(1000, 100, 50)},
      {"error_after_good_frame",
       "SEND\n\nok\0\nBAD\n\n\0"s,
       ParseErrorKind::bad_command,
       "Bad command",
       "Could not interpret command \"BAD\"\n",
       {},
       std::nullopt,
       1},
  };
}

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << c.name;
}

class ParserError : public ::testing::TestWithParam<ErrorCase> {};

void expect_error(const std::vector<ParseEvent>& events, const ErrorCase& c,
                  const std::string& where) {
  ASSERT_FALSE(events.empty()) << where;
  const ParseEvent& last = events.back();
  ASSERT_EQ(last.type, ParseEvent::Type::error) << where;
  ASSERT_TRUE(last.error.has_value()) << where;
  EXPECT_EQ(last.error->kind, c.kind) << where;
  EXPECT_EQ(last.error->error.message, c.message) << where;
  EXPECT_EQ(last.error->error.detail, c.detail) << where;
  EXPECT_EQ(frames_of(events).size(), c.frames_before) << where;
}

TEST_P(ParserError, WholeAndByteByByte) {
  const ErrorCase& c = GetParam();
  expect_error(parse_events(c.input, 0, c.options, c.version), c, "whole");
  expect_error(parse_events(c.input, 1, c.options, c.version), c, "byte by byte");
}

TEST_P(ParserError, EverySplitPoint) {
  const ErrorCase& c = GetParam();
  for (size_t split = 0; split <= c.input.size(); ++split) {
    Parser p(c.options);
    if (c.version) p.set_version(*c.version);
    std::vector<ParseEvent> events;
    for (std::string_view piece :
         {std::string_view(c.input).substr(0, split), std::string_view(c.input).substr(split)}) {
      if (!p.feed(piece)) break;
      for (ParseEvent e = p.next(); e.type != ParseEvent::Type::need_more; e = p.next()) {
        bool error = e.type == ParseEvent::Type::error;
        events.push_back(std::move(e));
        if (error) break;
      }
      if (p.failed()) break;
    }
    expect_error(events, c, "split at " + std::to_string(split));
  }
}

TEST_P(ParserError, RefusesInputAfterwards) {
  const ErrorCase& c = GetParam();
  Parser p(c.options);
  if (c.version) p.set_version(*c.version);
  p.feed(c.input);
  ParseEvent e;
  do {
    e = p.next();
  } while (e.type == ParseEvent::Type::frame || e.type == ParseEvent::Type::heartbeat);
  ASSERT_EQ(e.type, ParseEvent::Type::error);
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.feed("SEND\n\nx"));
  EXPECT_EQ(p.buffered(), 0u);
  ParseEvent again = p.next();
  ASSERT_EQ(again.type, ParseEvent::Type::error);
  EXPECT_EQ(again.error->kind, c.kind);
}

INSTANTIATE_TEST_SUITE_P(Stomp, ParserError, ::testing::ValuesIn(error_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StompParserLimits, ExactlyAtTheLimitsIsAccepted) {
  using namespace std::string_literals;
  std::string input = "SEND\na:1\nb:2\n\nxyz\0"s;  // 14 header bytes, 17 in all
  auto events = parse_events(input, 0, limits(14, 2, 17));
  ASSERT_EQ(frames_of(events).size(), 1u);
  EXPECT_EQ(frames_of(events)[0].body, "xyz");
  EXPECT_EQ(parse_events(input, 0, limits(13, 2, 17)).back().error->kind,
            ParseErrorKind::headers_too_large);
  EXPECT_EQ(parse_events(input, 0, limits(14, 1, 17)).back().error->kind,
            ParseErrorKind::too_many_headers);
  EXPECT_EQ(parse_events(input, 0, limits(14, 2, 16)).back().error->kind,
            ParseErrorKind::frame_too_large);
  std::string counted = "SEND\ncontent-length:3\n\nxyz\0"s;  // 23 header bytes, 26 in all
  EXPECT_EQ(frames_of(parse_events(counted, 0, limits(23, 1, 26))).size(), 1u);
  EXPECT_EQ(parse_events(counted, 0, limits(23, 1, 25)).back().error->kind,
            ParseErrorKind::frame_too_large);
}

TEST(StompParserLimits, DefaultsFollowRabbitMqFrameSize) {
  ParserLimits d;
  EXPECT_EQ(d.max_frame_size, 4u * 1024 * 1024);
}

}  // namespace
}  // namespace pulse::stomp
