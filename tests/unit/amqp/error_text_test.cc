// RabbitMQ's connection error texts. Expected strings were produced by Erlang/OTP 25's
// io_lib:format with the format strings of rabbit_reader and rabbit_misc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "amqp/error_text.h"
#include "amqp/frame.h"
#include "test_util.h"

namespace pulse::amqp {
namespace {

using testing::as_span;

std::span<const uint8_t> span_of(const std::vector<uint8_t>& v) {
  return v;
}

TEST(ErlangBinary, PrintableAndNumericForms) {
  EXPECT_EQ(erlang_print_binary({}), "<<>>");
  EXPECT_EQ(erlang_print_binary(as_span(std::string_view("abc"))), "<<\"abc\">>");
  EXPECT_EQ(erlang_print_binary(as_span(std::string_view("a\"b\\c\n"))), "<<\"a\\\"b\\\\c\\n\">>");
  EXPECT_EQ(erlang_print_binary(span_of({0, 20, 0, 10, 0})), "<<0,20,0,10,0>>");
  EXPECT_EQ(erlang_print_binary(span_of({127})), "<<127>>");
  EXPECT_EQ(erlang_write_binary(as_span(std::string_view("ab"))), "<<97,98>>");
}

TEST(FrameErrorText, ShortPayloads) {
  EXPECT_EQ(frame_error(9, as_span(std::string_view("xx")), "unknown_frame").text,
            "FRAME_ERROR - type 9, all octets = <<\"xx\">>: unknown_frame");
  EXPECT_EQ(frame_error(8, {}, "invalid_frame_end_marker", {65}).text,
            "FRAME_ERROR - type 8, all octets = <<>>: {invalid_frame_end_marker,65}");
  EXPECT_EQ(frame_error(3, {}, "frame_too_large", {9000, 8184}).text,
            "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,9000,8184}");
  Error e = unexpected_frame(2, span_of({0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0}));
  EXPECT_EQ(e.code, kUnexpectedFrame);
  EXPECT_EQ(e.text, "UNEXPECTED_FRAME - type 2, all octets = <<0,60,0,0,0,0,0,0,0,0,0,3,0,0>>");
}

TEST(FrameErrorText, LongTermsWrapLikeErlangsPrettyPrinter) {
  std::vector<uint8_t> seven(7, 150), twenty(20, 150);
  EXPECT_EQ(frame_error(1, span_of(seven), "invalid_frame_end_marker", {0}).text,
            "FRAME_ERROR - type 1, all octets = <<150,150,150,150,150,150,150>>: "
            "{invalid_frame_end_marker,\n" +
                std::string(55, ' ') + "0}");
  EXPECT_EQ(frame_error(1, span_of(twenty), "unknown_frame").text,
            "FRAME_ERROR - type 1, first 16 octets = "
            "<<150,150,150,150,150,150,150,150,150,150,150,150,\n" +
                std::string(28, ' ') + "150,150,150,150>>: unknown_frame");
}

TEST(DecodeErrorText, CannotDecodeQuotesTheArguments) {
  Error e = cannot_decode(span_of({0, 0, 255, 97, 98, 99}), 50, 10);
  EXPECT_EQ(e.code, kFrameError);
  EXPECT_EQ(e.text, "FRAME_ERROR - cannot decode <<0,0,255,97,98,99>>");
  EXPECT_EQ(e.class_id, 50);
  EXPECT_EQ(e.method_id, 10);
  // Reply texts are short strings: RabbitMQ keeps 252 bytes and appends "...".
  std::vector<uint8_t> big(1000, 200);
  e = cannot_decode(span_of(big), 50, 10);
  EXPECT_EQ(e.text.size(), 255u);
  EXPECT_EQ(e.text.substr(252), "...");
}

TEST(DecodeFrame, ErrorsCarryRabbitMQsTexts) {
  std::string f = {8, 0, 0, 0, 0, 0, 0, 'A'};
  FrameDecode d = decode_frame(as_span(f), 4096);
  ASSERT_EQ(d.status, DecodeStatus::kError);
  EXPECT_EQ(d.error.text, "FRAME_ERROR - type 8, all octets = <<>>: {invalid_frame_end_marker,65}");
  // RabbitMQ tolerates frame_max - 8 + 8 bytes of payload but reports frame_max - 8.
  std::string big = {3, 0, 1, 0, 0, 0x23, 0x28};  // 9000-byte body
  d = decode_frame(as_span(big), 8192, kFrameOverhead);
  ASSERT_EQ(d.status, DecodeStatus::kError);
  EXPECT_EQ(d.error.text, "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,9000,8184}");
  std::string fits = {3, 0, 1, 0, 0, 0x20, 0x00};  // 8192-byte body: inside the fudge
  EXPECT_EQ(decode_frame(as_span(fits), 8192, kFrameOverhead).status, DecodeStatus::kNeedMore);
}

TEST(AnalyzeFrame, ShapesAsRabbitMQsCommandAssembler) {
  std::vector<uint8_t> two{0, 50}, four{0, 50, 0, 10}, twelve(12, 0);
  EXPECT_EQ(analyze_frame({kFrameMethod, 1, two}), FrameKind::kInvalid);
  EXPECT_EQ(analyze_frame({kFrameMethod, 1, four}), FrameKind::kMethod);
  EXPECT_EQ(analyze_frame({kFrameHeader, 1, four}), FrameKind::kInvalid);
  EXPECT_EQ(analyze_frame({kFrameHeader, 1, twelve}), FrameKind::kHeader);
  EXPECT_EQ(analyze_frame({kFrameBody, 1, {}}), FrameKind::kBody);
  EXPECT_EQ(analyze_frame({kFrameHeartbeat, 0, {}}), FrameKind::kHeartbeat);
  EXPECT_EQ(analyze_frame({kFrameHeartbeat, 0, two}), FrameKind::kInvalid);
  EXPECT_EQ(analyze_frame({9, 1, two}), FrameKind::kInvalid);
}

}  // namespace
}  // namespace pulse::amqp
