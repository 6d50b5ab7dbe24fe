#include "pulse/smtp/message.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>

#include "pulse/guardian/notice_text.h"
#include "pulse/smtp/smtp_protocol.h"

namespace pulse::smtp {
namespace {}  // namespace

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return uint8_t(c) < 0x80; });
}

std::string header_value(std::string_view text) {
  std::string clean(text);
  for (char& c : clean) {
    if (uint8_t(c) < 0x20 || uint8_t(c) == 0x7f) c = ' ';
  }
  if (is_ascii(clean)) return clean;
  // Encoded words are at most 75 characters: 45 bytes of text -> 60 of base64 + 12 of frame.
  // Chunks end on UTF-8 character boundaries (a continuation byte is 10xxxxxx), as RFC 2047
  // asks, so each word decodes on its own.
  std::string out;
  size_t i = 0;
  while (i < clean.size()) {
    size_t end = std::min(clean.size(), i + 45);
    while (end < clean.size() && end > i + 1 && (uint8_t(clean[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  // Names spelled out: strftime's %a/%b follow the locale, RFC 5322 wants English.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string make_message_id(std::string_view from, std::chrono::system_clock::time_point t) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto at = from.rfind('@');
  const std::string_view domain =
      at == std::string_view::npos ? "pulse.invalid" : from.substr(at + 1);
  char buf[64];
  std::snprintf(
      buf, sizeof buf, "%016llx.%lld", static_cast<unsigned long long>(rng()),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()));
  return "<" + std::string(buf) + ".pulse-guardian@" + std::string(domain) + ">";
}

Mail notice_mail(const guardian::Notice& notice, const std::string& from,
                 std::vector<std::string> to, std::chrono::system_clock::time_point now) {
  Mail m;
  m.from = from;
  m.to = std::move(to);
  m.subject = guardian::email_subject(notice);
  m.body = guardian::email_body(notice);
  m.date = now;
  m.message_id = make_message_id(from, now);
  m.headers.emplace_back("X-Pulse-Notice", guardian::notice_routing_key(notice));
  return m;
}

std::string render_mail(const Mail& m) {
  std::string out;
  auto header = [&out](std::string_view name, const std::string& value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  header("Date", rfc5322_date(m.date));
  header("From", m.from);
  std::string to;
  for (const auto& a : m.to) to += (to.empty() ? "" : ",\r\n    ") + a;
  header("To", to);
  header("Subject", header_value(m.subject));
  header("Message-ID", m.message_id);
  header("MIME-Version", "1.0");
  header("Content-Type", "text/plain; charset=utf-8");
  header("Content-Transfer-Encoding", is_ascii(m.body) ? "7bit" : "8bit");
  // RFC 3834: machine-made, so auto-responders (vacation replies) stay quiet.
  header("Auto-Submitted", "auto-generated");
  for (const auto& [name, value] : m.headers) header(name, header_value(value));
  out += "\r\n";
  for (size_t i = 0; i < m.body.size(); ++i) {
    const char c = m.body[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < m.body.size() && m.body[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

}  // namespace pulse::smtp
