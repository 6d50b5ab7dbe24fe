// The serializer writes what RabbitMQ writes, and what it writes parses back to the same frame.
#include <gtest/gtest.h>

#include "stomp/parser.h"
#include "stomp/serializer.h"
#include "stomp_test_util.h"

namespace pulse::stomp {
namespace {

using namespace std::string_literals;
using test::frames_of;
using test::parse_events;

TEST(StompSerializer, MessageAsRabbitMqWritesIt) {
  Frame f{"MESSAGE", {{"subscription", "s1"}, {"destination", "/queue/a"}}, "hello"};
  EXPECT_EQ(serialize(f, Version::v1_2),
            "MESSAGE\nsubscription:s1\ndestination:/queue/a\ncontent-length:5\n\nhello\0\n"s);
}

TEST(StompSerializer, ContentLengthOnlyForNonEmptyBodies) {
  Frame receipt{"RECEIPT", {{"receipt-id", "7"}}, ""};
  EXPECT_EQ(serialize(receipt, Version::v1_2), "RECEIPT\nreceipt-id:7\n\n\0\n"s);
  Frame stale{"MESSAGE", {{"content-length", "99"}, {"x", "y"}}, "a\0b"s};
  EXPECT_EQ(serialize(stale, Version::v1_2), "MESSAGE\nx:y\ncontent-length:3\n\na\0b\0\n"s);
}

TEST(StompSerializer, TrailingLfCanBeOff) {
  Frame f{"RECEIPT", {{"receipt-id", "1"}}, ""};
  EXPECT_EQ(serialize(f, Version::v1_2, {Escaping::spec, false}), "RECEIPT\nreceipt-id:1\n\n\0"s);
}

TEST(StompSerializer, HeartbeatIsOneEol) {
  EXPECT_EQ(kHeartbeat, "\n");
}

struct EscapeCase {
  const char* name;
  std::string command;
  Version version;
  Escaping escaping;
  std::string expected_header_line;  // for header "k:e\y" = "a\\b:c\nd\re"
};

void PrintTo(const EscapeCase& c, std::ostream* os) {
  *os << c.name;
}

class SerializerEscaping : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(SerializerEscaping, HeaderLine) {
  const EscapeCase& c = GetParam();
  Frame f{c.command, {{"k:e\\y", "a\\b:c\nd\re"}}, ""};
  std::string out = serialize(f, c.version, {c.escaping, false});
  EXPECT_EQ(out, c.command + "\n" + c.expected_header_line + "\n\n" + std::string(1, '\0'));
}

INSTANTIATE_TEST_SUITE_P(
    Stomp, SerializerEscaping,
    ::testing::Values(EscapeCase{"v1_2", "MESSAGE", Version::v1_2, Escaping::spec,
                                 "k\\ce\\\\y:a\\\\b\\cc\\nd\\re"},
                      EscapeCase{"v1_1", "MESSAGE", Version::v1_1, Escaping::spec,
                                 "k\\ce\\\\y:a\\\\b\\cc\\nd\\re"},
                      EscapeCase{"v1_0", "MESSAGE", Version::v1_0, Escaping::spec,
                                 "k\\ce\\y:a\\b:c\\nd\\re"},
                      EscapeCase{"connected", "CONNECTED", Version::v1_2, Escaping::spec,
                                 "k\\ce\\y:a\\b:c\\nd\\re"},
                      EscapeCase{"rabbitmq_connected", "CONNECTED", Version::v1_2,
                                 Escaping::rabbitmq, "k\\ce\\\\y:a\\\\b\\cc\\nd\\re"},
                      EscapeCase{"rabbitmq_v1_0", "MESSAGE", Version::v1_0, Escaping::rabbitmq,
                                 "k\\ce\\\\y:a\\\\b\\cc\\nd\\re"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(StompSerializer, ErrorFrameAsRabbitMqSendsIt) {
  Frame e = make_error_frame("Bad command", "Could not interpret command \"FOO\"\n");
  EXPECT_EQ(serialize(e, Version::v1_2),
            "ERROR\nmessage:Bad command\ncontent-type:text/plain\nversion:1.0,1.1,1.2\n"
            "content-length:34\n\nCould not interpret command \"FOO\"\n\0\n"s);
}

// Header bytes every version can carry, and per version what only it can.
std::string all_bytes_except(std::string_view excluded) {
  std::string s;
  for (int c = 1; c < 256; ++c)
    if (excluded.find(static_cast<char>(c)) == std::string_view::npos) s += static_cast<char>(c);
  return s;
}

Frame expected_after_round_trip(Frame f) {
  std::erase_if(f.headers, [](const Header& h) { return h.name == "content-length"; });
  if (!f.body.empty()) f.add("content-length", std::to_string(f.body.size()));
  return f;
}

void expect_round_trip(const Frame& f, Version v, Escaping mode) {
  std::string wire = serialize(f, v, {mode, true});
  ParserOptions opts;
  opts.escaping = mode;
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{5}}) {
    auto events = parse_events(wire, chunk, opts, v);
    auto frames = frames_of(events);
    ASSERT_EQ(frames.size(), 1u) << version_name(v) << " chunk " << chunk;
    EXPECT_EQ(frames[0], expected_after_round_trip(f)) << version_name(v);
  }
}

TEST(StompRoundTrip, EveryVersionAndMode) {
  const std::string body = "binary\0body\r\n\0"s;
  struct Variant {
    Version v;
    std::string header_bytes;
  };
  std::vector<Variant> variants = {
      {Version::v1_2, all_bytes_except("")},
      {Version::v1_1, all_bytes_except("\r")},
      {Version::v1_0, all_bytes_except("\r\n:")},
  };
  for (const auto& var : variants) {
    Frame f{"MESSAGE",
            {{"destination", "/exchange/x/a.b"},
             {var.header_bytes, var.header_bytes},
             {"dup", "1"},
             {"dup", "2"},
             {"empty", ""}},
            body};
    expect_round_trip(f, var.v, Escaping::spec);
    Frame no_body = f;
    no_body.body.clear();
    expect_round_trip(no_body, var.v, Escaping::spec);
    expect_round_trip(f, var.v, Escaping::rabbitmq);
  }
  // CONNECT and CONNECTED are never escaped, so backslashes and colons in values are literal.
  Frame connect{"CONNECT", {{"login", "us\\er"}, {"passcode", "p:a\\ss"}}, ""};
  expect_round_trip(connect, Version::v1_2, Escaping::spec);
}

}  // namespace
}  // namespace pulse::stomp
