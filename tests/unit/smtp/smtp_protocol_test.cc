// The SMTP line protocol without I/O: replies parsed from any split of the server's bytes,
// garbage and oversized input refused with a clear error, EHLO capabilities, the DATA payload
// (CRLF, dot-stuffing, terminator), AUTH PLAIN's response and credentials kept out of texts.
#include "pulse/smtp/smtp_protocol.h"

#include <gtest/gtest.h>

namespace pulse::smtp {
namespace {

// Every reply the parser yields for `bytes` fed in pieces of `step` bytes; stops at an error,
// which is returned as the last element's text with code -1.
std::vector<Reply> parse(std::string_view bytes, size_t step = 1 << 20) {
  ReplyParser p;
  std::vector<Reply> out;
  for (size_t i = 0; i < bytes.size(); i += step) {
    p.feed(bytes.substr(i, step));
    while (true) {
      auto r = p.next();
      if (!r) {
        out.push_back(Reply{-1, {r.error().text}});
        return out;
      }
      if (!*r) break;
      out.push_back(std::move(**r));
    }
  }
  return out;
}

std::string error_of(std::string_view bytes) {
  auto replies = parse(bytes);
  if (replies.empty() || replies.back().code != -1) return "(no error)";
  return replies.back().lines[0];
}

TEST(SmtpReplyParser, SingleAndMultiLineRepliesInAnySplit) {
  const std::string wire =
      "220 mx.example.org ESMTP ready\r\n"
      "250-mx.example.org Hello\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n"
      "354 End data with <CR><LF>.<CR><LF>\r\n"
      "250\r\n";
  for (size_t step : {1, 2, 3, 7, 64, 4096}) {
    auto r = parse(wire, step);
    ASSERT_EQ(r.size(), 4u) << "step " << step;
    EXPECT_EQ(r[0].code, 220);
    EXPECT_EQ(r[0].lines, std::vector<std::string>{"mx.example.org ESMTP ready"});
    EXPECT_EQ(r[1].code, 250);
    EXPECT_EQ(r[1].lines, (std::vector<std::string>{"mx.example.org Hello", "8BITMIME",
                                                    "AUTH PLAIN LOGIN", "STARTTLS"}));
    EXPECT_EQ(r[2].code, 354);
    EXPECT_EQ(r[3].code, 250);
    EXPECT_EQ(r[3].lines, std::vector<std::string>{""});
  }
}

TEST(SmtpReplyParser, BareLineFeedsAreAccepted) {
  auto r = parse("250-a\n250 b\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].lines, (std::vector<std::string>{"a", "b"}));
}

TEST(SmtpReplyParser, WaitsForTheLastLineOfAReply) {
  ReplyParser p;
  p.feed("250-first\r\n250-second\r\n250 la");
  auto r = p.next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_TRUE(p.buffered());
  p.feed("st\r\n");
  r = p.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->lines.size(), 3u);
  EXPECT_FALSE(p.buffered());
}

TEST(SmtpReplyParser, BytesAfterAReplyAreBuffered) {
  ReplyParser p;
  p.feed("220 go ahead\r\n250 injected\r\n");
  auto r = p.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->code, 220);
  EXPECT_TRUE(p.buffered());
}

TEST(SmtpReplyParser, GarbageIsAClearError) {
  const std::pair<const char*, const char*> cases[] = {
      {"HTTP/1.1 400 Bad Request\r\n",
       "malformed reply from the server (not SMTP?): 'HTTP/1.1 400 Bad Request'"},
      {"\r\n", "malformed reply from the server (not SMTP?): ''"},
      {"25\r\n", "malformed reply from the server (not SMTP?): '25'"},
      {"2500 x\r\n", "malformed reply from the server (not SMTP?): '2500 x'"},
      {"250x\r\n", "malformed reply from the server (not SMTP?): '250x'"},
      {"150 one\r\n", "malformed reply from the server (not SMTP?): '150 one'"},
      {"650 six\r\n", "malformed reply from the server (not SMTP?): '650 six'"},
      {"2a0 x\r\n", "malformed reply from the server (not SMTP?): '2a0 x'"},
      {"\x16\x03\x01\x02\x01\r\n",
       "malformed reply from the server (not SMTP?): '?????"
       "'"},
      {"250-a\r\n550 b\r\n",
       "malformed reply from the server: a multi-line reply changed its code (250 then 550)"},
  };
  for (const auto& [wire, error] : cases) EXPECT_EQ(error_of(wire), error) << wire;
  // A long garbage line is cut in the error.
  EXPECT_EQ(error_of(std::string(200, 'x') + "\r\n"),
            "malformed reply from the server (not SMTP?): '" + std::string(80, 'x') + "...'");
}

TEST(SmtpReplyParser, OversizedLinesAndRepliesAreBounded) {
  const std::string too_long = "a reply line from the server is longer than 4096 bytes";
  // Without a line end the parser gives up as soon as the line is too long, in any split.
  std::string endless = "220 " + std::string(ReplyParser::kMaxLine, 'x');
  for (size_t step : {1, 100, 4096, 100000}) {
    auto r = parse(endless + endless, step);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.back().code, -1);
    EXPECT_EQ(r.back().lines[0], too_long);
  }
  EXPECT_EQ(error_of(endless + "\r\n"), too_long);
  // The longest line allowed, CRLF excluded, still parses.
  auto ok = parse("250 " + std::string(ReplyParser::kMaxLine - 4, 'x') + "\r\n");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].code, 250);

  std::string many;
  for (size_t i = 0; i < ReplyParser::kMaxLines + 1; ++i) many += "250-x\r\n";
  EXPECT_EQ(error_of(many), "a reply from the server has more than 256 lines");
}

TEST(SmtpReply, TextIsPrintableBoundedAndRedacted) {
  EXPECT_EQ((Reply{550, {"5.1.1 no such user"}}).text(), "550 5.1.1 no such user");
  EXPECT_EQ((Reply{250, {"mx", "8BITMIME", "STARTTLS"}}).text(), "250 mx 8BITMIME STARTTLS");
  EXPECT_EQ((Reply{250, {""}}).text(), "250");
  EXPECT_EQ((Reply{550, {"bad\x01\x7f\xc3\xa9\tuser"}}).text(), "550 bad???? user");
  const std::string long_text = Reply{550, {std::string(1000, 'y')}}.text();
  EXPECT_EQ(long_text.size(), kMaxReplyText + 3);
  EXPECT_TRUE(long_text.ends_with("yyy..."));
  // A secret past the cut is redacted before cutting, so no part of it shows.
  const std::string secret = "AGd1YXJkaWFuAHMzY3JldA==";
  Reply echo{535, {"5.7.8 bad credentials " + std::string(480, '.') + " " + secret}};
  EXPECT_EQ(echo.text({secret}).find("AGd1"), std::string::npos);
  EXPECT_NE(echo.text().find("AGd1"), std::string::npos);
}

TEST(SmtpEhlo, CapabilitiesAreParsedCaseInsensitively) {
  auto caps =
      parse_ehlo(Reply{250,
                       {"mx.example.org greets you", "8bitmime", "SIZE 1000",
                        "auth login PLAIN  CRAM-MD5", "STARTTLS", "AUTH=LOGIN XOAUTH2", ""}});
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_EQ(caps.auth, (std::vector<std::string>{"LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2"}));
  EXPECT_TRUE(caps.offers_auth("PLAIN"));
  EXPECT_FALSE(caps.offers_auth("GSSAPI"));

  // The greeting line names the server, never a capability.
  auto plain = parse_ehlo(Reply{250, {"STARTTLS"}});
  EXPECT_FALSE(plain.starttls);
  EXPECT_TRUE(plain.auth.empty());
}

TEST(SmtpDataPayload, DotStuffingAndCrlf) {
  EXPECT_EQ(data_payload("Subject: x\r\n\r\nhello\r\n"), "Subject: x\r\n\r\nhello\r\n.\r\n");
  // A line that is only "." would end the mail early; every leading dot is doubled.
  EXPECT_EQ(data_payload("a\r\n.\r\n.b\r\n..c\r\nd.e\r\n"),
            "a\r\n..\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  EXPECT_EQ(data_payload(".first"), "..first\r\n.\r\n");
  // Bare LF and bare CR become CRLF; a missing final line end is added.
  EXPECT_EQ(data_payload("a\n.b\rc"), "a\r\n..b\r\nc\r\n.\r\n");
  EXPECT_EQ(data_payload("a\n\n"), "a\r\n\r\n.\r\n");
  EXPECT_EQ(data_payload(""), ".\r\n");
  // "\r\n.\r\n" inside a body cannot end the DATA phase.
  const std::string p = data_payload("x\r\n.\r\nRCPT TO:<evil@example.org>\r\n");
  EXPECT_EQ(p.find("\r\n.\r\n"), p.size() - 5);
}

TEST(SmtpAuth, Base64AndPlainResponse) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64("\xff\xfe"), "//4=");
  // RFC 4616's "\0tim\0tanstaaftanstaaf".
  EXPECT_EQ(auth_plain_response("tim", "tanstaaftanstaaf"), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
}

TEST(SmtpAuth, RedactReplacesEveryOccurrence) {
  EXPECT_EQ(redact("x s3cret y s3cret", {"s3cret"}), "x *** y ***");
  EXPECT_EQ(redact("aaaa", {"aa"}), "******");
  EXPECT_EQ(redact("nothing here", {"", "zz"}), "nothing here");
}

TEST(SmtpEhlo, DomainIsAFqdnOrAnAddressLiteral) {
  EXPECT_EQ(ehlo_domain("build1.example.org", "192.0.2.1"), "build1.example.org");
  EXPECT_EQ(ehlo_domain("buildhost", "192.0.2.1"), "[192.0.2.1]");
  EXPECT_EQ(ehlo_domain("", "127.0.0.1"), "[127.0.0.1]");
  EXPECT_EQ(ehlo_domain("bad_name.example", "::1"), "[IPv6:::1]");
  EXPECT_EQ(ehlo_domain("a..b", "10.0.0.1"), "[10.0.0.1]");
  EXPECT_EQ(ehlo_domain("x.y\r\nRCPT", "10.0.0.1"), "[10.0.0.1]");
}

}  // namespace
}  // namespace pulse::smtp
