#include "pulse/smtp/message.h"

#include <gtest/gtest.h>

#include <string>

namespace pulse::smtp {
namespace {

using std::chrono::system_clock;

// 2026-12-05T13:01:01Z, a Saturday.
const system_clock::time_point kAt = system_clock::from_time_t(1796475661);

guardian::Notice warning_notice() {
  guardian::Notice n;
  n.event = guardian::Event::kWarning;
  n.vhost = "/";
  n.owner = "alice";
  n.queue = "queue/alice/builds";
  n.messages = 2500;
  n.messages_ready = 2400;
  n.messages_unacknowledged = 100;
  n.growth_rate = 12.5;
  n.bindings = {{"exchange/build/", "#.finished"}};
  return n;
}

TEST(SmtpMessageTest, Date) {
  EXPECT_EQ(rfc5322_date(kAt), "Sat, 05 Dec 2026 13:01:01 +0000");
}

TEST(SmtpMessageTest, NoticeMailHeadersAndBody) {
  Mail m = notice_mail(warning_notice(), "pulse@example.org",
                       {"alice@example.com", "root@example.org"}, kAt);
  const std::string text = render_mail(m);
  EXPECT_EQ(text.find("Date: Sat, 05 Dec 2026 13:01:01 +0000\r\n"), 0u) << text;
  EXPECT_NE(text.find("\r\nFrom: pulse@example.org\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nTo: alice@example.com,\r\n    root@example.org\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nSubject: Pulse warning: queue \"queue/alice/builds\" is "
                      "overgrowing\r\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\r\nMessage-ID: <"), std::string::npos);
  EXPECT_NE(text.find("@example.org>\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nX-Pulse-Notice: warning.alice\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\n\r\nYour queue \"queue/alice/builds\" is overgrowing"),
            std::string::npos);
  EXPECT_NE(text.find("exchange \"exchange/build/\", routing key \"#.finished\"\r\n"),
            std::string::npos);
  // Every line ends in CRLF: no bare LF reaches the server.
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ASSERT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  EXPECT_TRUE(text.ends_with("\r\n"));
}

TEST(SmtpMessageTest, QueueNameCannotInjectHeaders) {
  guardian::Notice n = warning_notice();
  n.queue = "q\r\nBcc: victim@example.org\nX: y";
  const std::string text = render_mail(notice_mail(n, "p@example.org", {"a@example.org"}, kAt));
  const std::string head = text.substr(0, text.find("\r\n\r\n") + 2);
  EXPECT_EQ(head.find("\r\nBcc:"), std::string::npos) << head;
  EXPECT_EQ(head.find("\nX: y"), std::string::npos) << head;
  EXPECT_NE(head.find("Subject: Pulse warning: queue \"q  Bcc: victim@example.org X: y\""),
            std::string::npos)
      << head;
}

TEST(SmtpMessageTest, NonAsciiSubjectIsEncodedWords) {
  // "é" is two bytes: 40 of them must not be split inside a character.
  std::string name;
  for (int i = 0; i < 40; ++i) name += "\xc3\xa9";
  const std::string v = header_value("queue " + name);
  EXPECT_EQ(v.find("=?UTF-8?B?"), 0u) << v;
  size_t start = 0;
  while (start < v.size()) {
    size_t end = v.find("\r\n ", start);
    const std::string word = v.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_EQ(header_value("plain"), "plain");
}

TEST(SmtpMessageTest, BodyLineEndsNormalized) {
  Mail m;
  m.from = "p@example.org";
  m.to = {"a@example.org"};
  m.subject = "s";
  m.body = "one\ntwo\r\nthree\r.\nfour";
  m.date = kAt;
  m.message_id = "<x@example.org>";
  const std::string text = render_mail(m);
  EXPECT_TRUE(text.ends_with("\r\n\r\none\r\ntwo\r\nthree\r\n.\r\nfour\r\n")) << text;
  EXPECT_NE(text.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  m.body = "caf\xc3\xa9";
  EXPECT_NE(render_mail(m).find("Content-Transfer-Encoding: 8bit"), std::string::npos);
}

}  // namespace
}  // namespace pulse::smtp
