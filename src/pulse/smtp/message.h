#pragma once
// One mail as it goes on the wire (RFC 5322 + MIME, CRLF line ends), built from a guardian
// notice. Pure functions: the SMTP client only carries the text.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/guardian/policy.h"

namespace pulse::smtp {

struct Mail {
  std::string from;
  std::vector<std::string> to;  // header To: and the envelope's recipients
  std::string subject;          // UTF-8; encoded as RFC 2047 words when not ASCII
  std::string body;             // UTF-8, '\n' or "\r\n" line ends
  std::chrono::system_clock::time_point date{};
  std::string message_id;  // "<...@...>"
  // Extra headers, e.g. {"X-Pulse-Notice", "warning.alice"}; values are sanitized like the
  // subject.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The mail for a guardian notice: PulseGuardian's subject, the notice's body, the routing key
// as X-Pulse-Notice so filters can sort mails as subscribers sort messages.
Mail notice_mail(const guardian::Notice& notice, const std::string& from,
                 std::vector<std::string> to, std::chrono::system_clock::time_point now);

// The full text, headers and body, CRLF line ends, ending in CRLF. Dot-stuffing is the SMTP
// client's job (data_payload in smtp_protocol.h), not done here.
std::string render_mail(const Mail& mail);

// "Sat, 05 Dec 2026 13:01:01 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point t);

// Whether the text is 7-bit (the body's Content-Transfer-Encoding; 8BITMIME when it is not).
bool is_ascii(std::string_view s);

// A header value safe on one logical line: control characters (CR and LF above all: header
// injection) become spaces; non-ASCII text becomes RFC 2047 base64 words, folded.
std::string header_value(std::string_view text);

// "<random.millis@domain of from>".
std::string make_message_id(std::string_view from, std::chrono::system_clock::time_point t);

}  // namespace pulse::smtp
