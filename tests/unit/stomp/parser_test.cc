// The parser on well-formed input: each case is parsed whole, one byte at a time and split in
// two at every point, and must yield the same frames and heart-beats every way.
#include <gtest/gtest.h>

#include "stomp/parser.h"
#include "stomp_test_util.h"

namespace pulse::stomp {
namespace {

using test::frames_of;
using test::heartbeats_of;
using test::parse_events;

Frame frame_of(std::string command, std::vector<Header> headers, std::string body = "") {
  return Frame{std::move(command), std::move(headers), std::move(body)};
}

struct GoodCase {
  const char* name;
  std::string input;
  std::vector<Frame> frames;
  size_t heartbeats = 0;
  ParserOptions options{};
  std::optional<Version> version{};
};

std::vector<GoodCase> good_cases() {
  using namespace std::string_literals;
  ParserOptions rabbit;
  rabbit.escaping = Escaping::rabbitmq;
  ParserOptions any_command;
  any_command.known_commands_only = false;
  return {
      {"send_nul_terminated",
       "SEND\ndestination:/queue/a\n\nhello\0"s,
       {frame_of("SEND", {{"destination", "/queue/a"}}, "hello")}},
      {"no_headers_no_body", "DISCONNECT\n\n\0"s, {frame_of("DISCONNECT", {})}},
      {"crlf_lines",
       "SEND\r\ndestination:/queue/a\r\nreceipt:7\r\n\r\nbody\0"s,
       {frame_of("SEND", {{"destination", "/queue/a"}, {"receipt", "7"}}, "body")}},
      {"content_length_body_with_nuls",
       "SEND\ndestination:/queue/a\ncontent-length:5\n\na\0b\0c\0"s,
       {frame_of("SEND", {{"destination", "/queue/a"}, {"content-length", "5"}}, "a\0b\0c"s)}},
      {"content_length_zero",
       "SEND\ncontent-length:0\n\n\0"s,
       {frame_of("SEND", {{"content-length", "0"}})}},
      {"content_length_spaces",
       "SEND\ncontent-length: 3 \n\nabc\0"s,
       {frame_of("SEND", {{"content-length", " 3 "}}, "abc")}},
      {"content_length_on_message",
       "MESSAGE\ncontent-length:2\n\n\0\0\0"s,
       {frame_of("MESSAGE", {{"content-length", "2"}}, "\0\0"s)}},
      {"body_keeps_eols",
       "SEND\n\nline1\r\nline2\n\0"s,
       {frame_of("SEND", {}, "line1\r\nline2\n")}},
      {"duplicates_kept_in_order",
       "SEND\nfoo:1\nbar:x\nfoo:2\n\n\0"s,
       {frame_of("SEND", {{"foo", "1"}, {"bar", "x"}, {"foo", "2"}})}},
      {"colon_in_value_and_empty_value",
       "SEND\na:b:c\nempty:\n:noname\n\n\0"s,
       {frame_of("SEND", {{"a", "b:c"}, {"empty", ""}, {"", "noname"}})}},
      {"heartbeats_between_frames",
       "\n\r\n\0\0DISCONNECT\n\n\0\n\r\n\nDISCONNECT\n\n\0"s,
       {frame_of("DISCONNECT", {}), frame_of("DISCONNECT", {})},
       5},
      {"only_heartbeats", "\n\n\r\n"s, {}, 3},
      {"escapes_1_2",
       "SEND\nk\\cey:a\\nb\\cc\\\\d\\re\n\n\0"s,
       {frame_of("SEND", {{"k:ey", "a\nb:c\\d\re"}})},
       0,
       {},
       Version::v1_2},
      {"escapes_before_version_known_are_1_2",
       "SEND\nk:a\\r\\n\n\n\0"s,
       {frame_of("SEND", {{"k", "a\r\n"}})}},
      {"escapes_1_1",
       "SEND\nk:a\\nb\\cc\\\\d\n\n\0"s,
       {frame_of("SEND", {{"k", "a\nb:c\\d"}})},
       0,
       {},
       Version::v1_1},
      {"no_escapes_1_0",
       "SEND\nk:a\\nb\\q\n\n\0"s,
       {frame_of("SEND", {{"k", "a\\nb\\q"}})},
       0,
       {},
       Version::v1_0},
      {"connect_never_unescaped",
       "CONNECT\nlogin:u\\ser\npasscode:p\\c\n\n\0"s,
       {frame_of("CONNECT", {{"login", "u\\ser"}, {"passcode", "p\\c"}})}},
      {"connected_never_unescaped",
       "CONNECTED\nserver:a\\b\n\n\0"s,
       {frame_of("CONNECTED", {{"server", "a\\b"}})}},
      {"rabbitmq_mode_unescapes_connect",
       "STOMP\npasscode:p\\cw\\\\\n\n\0"s,
       {frame_of("STOMP", {{"passcode", "p:w\\"}})},
       0,
       rabbit},
      {"rabbitmq_mode_unescapes_1_0",
       "SEND\nk:a\\rb\n\n\0"s,
       {frame_of("SEND", {{"k", "a\rb"}})},
       0,
       rabbit,
       Version::v1_0},
      {"unknown_command_allowed",
       "FOO\nx:y\n\n\0"s,
       {frame_of("FOO", {{"x", "y"}})},
       0,
       any_command},
      {"several_frames_one_buffer",
       "SUBSCRIBE\nid:1\ndestination:/topic/a\n\n\0SEND\ndestination:/topic/a\n\nx\0\n"s,
       {frame_of("SUBSCRIBE", {{"id", "1"}, {"destination", "/topic/a"}}),
        frame_of("SEND", {{"destination", "/topic/a"}}, "x")},
       1},
  };
}

void PrintTo(const GoodCase& c, std::ostream* os) {
  *os << c.name;
}

class ParserCase : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParserCase, WholeInput) {
  const GoodCase& c = GetParam();
  auto events = parse_events(c.input, 0, c.options, c.version);
  EXPECT_EQ(frames_of(events), c.frames);
  EXPECT_EQ(heartbeats_of(events), c.heartbeats);
  for (const auto& e : events) EXPECT_NE(e.type, ParseEvent::Type::error);
}

TEST_P(ParserCase, OneByteAtATime) {
  const GoodCase& c = GetParam();
  auto events = parse_events(c.input, 1, c.options, c.version);
  EXPECT_EQ(frames_of(events), c.frames);
  EXPECT_EQ(heartbeats_of(events), c.heartbeats);
}

TEST_P(ParserCase, EverySplitPoint) {
  const GoodCase& c = GetParam();
  for (size_t split = 0; split <= c.input.size(); ++split) {
    Parser p(c.options);
    if (c.version) p.set_version(*c.version);
    std::vector<ParseEvent> events;
    for (std::string_view piece :
         {std::string_view(c.input).substr(0, split), std::string_view(c.input).substr(split)}) {
      ASSERT_TRUE(p.feed(piece));
      for (ParseEvent e = p.next(); e.type != ParseEvent::Type::need_more; e = p.next())
        events.push_back(std::move(e));
    }
    EXPECT_EQ(frames_of(events), c.frames) << "split at " << split;
    EXPECT_EQ(heartbeats_of(events), c.heartbeats) << "split at " << split;
    EXPECT_EQ(p.buffered(), 0u) << "split at " << split;
  }
}

INSTANTIATE_TEST_SUITE_P(Stomp, ParserCase, ::testing::ValuesIn(good_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StompParser, FirstHeaderWins) {
  using namespace std::string_literals;
  auto frames = frames_of(parse_events("SEND\nfoo:1\nfoo:2\n\n\0"s));
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_NE(frames[0].header("foo"), nullptr);
  EXPECT_EQ(*frames[0].header("foo"), "1");
  EXPECT_EQ(frames[0].header("bar"), nullptr);
}

TEST(StompParser, FirstContentLengthWins) {
  using namespace std::string_literals;
  auto frames = frames_of(parse_events("SEND\ncontent-length:1\ncontent-length:3\n\na\0"s));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "a");
}

TEST(StompParser, VersionSwitchAppliesToLaterFrames) {
  using namespace std::string_literals;
  Parser p;
  p.feed("SEND\nk:a\\\\b\n\n\0"s);
  auto first = p.next();
  ASSERT_EQ(first.type, ParseEvent::Type::frame);
  EXPECT_EQ(*first.frame.header("k"), "a\\b");
  p.set_version(Version::v1_0);
  p.feed("SEND\nk:a\\\\b\n\n\0"s);
  auto second = p.next();
  ASSERT_EQ(second.type, ParseEvent::Type::frame);
  EXPECT_EQ(*second.frame.header("k"), "a\\\\b");
}

TEST(StompParser, LargeBodyAcrossManyFeeds) {
  std::string body(300000, 'x');
  body[1234] = '\n';
  std::string input = "SEND\ndestination:/queue/big\n\n" + body + std::string(1, '\0');
  auto events = parse_events(input, 7001);
  auto frames = frames_of(events);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, body);
}

TEST(StompParser, NeedMoreUntilTheNul) {
  Parser p;
  p.feed("SEND\n\nabc");
  EXPECT_EQ(p.next().type, ParseEvent::Type::need_more);
  EXPECT_FALSE(p.failed());
  p.feed(std::string(1, '\0'));
  auto e = p.next();
  ASSERT_EQ(e.type, ParseEvent::Type::frame);
  EXPECT_EQ(e.frame.body, "abc");
  EXPECT_EQ(p.next().type, ParseEvent::Type::need_more);
}

}  // namespace
}  // namespace pulse::stomp
