#pragma once
// The SMTP line protocol without I/O (RFC 5321): replies parsed from whatever bytes the server
// sends, EHLO capabilities, the DATA payload (CRLF, dot-stuffed, terminated), AUTH responses,
// and server text made safe for errors and logs. The server is untrusted: every line and every
// reply is bounded, and anything that is not an SMTP reply is a clear error.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pulse::smtp {

struct Reply {
  int code = 0;                    // 200..599
  std::vector<std::string> lines;  // the text after "250-" / "250 " of each line, as sent

  bool positive() const { return code >= 200 && code < 400; }
  // For errors and logs: "550 5.1.1 no such user", multi-line texts joined by spaces, each
  // secret replaced by "***" (see redact), then only printable ASCII (anything else becomes
  // '?'), at most kMaxReplyText characters.
  std::string text(const std::vector<std::string>& secrets = {}) const;
};

inline constexpr size_t kMaxReplyText = 512;

// Bytes in, replies out. A line is at most kMaxLine bytes without its line end (RFC 5321 asks
// for 512; 4 KiB leaves room for long EHLO keywords) and a reply at most kMaxLines lines, so a
// server sending garbage or never ending a line costs a few KiB, never unbounded memory.
class ReplyParser {
 public:
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxLines = 256;

  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next complete reply, nothing while more bytes are needed, or an Error (code 0, text
  // saying what was wrong) once the input is not SMTP. Lines may end in CRLF or a bare LF.
  Result<std::optional<Reply>> next();
  // Bytes received after the last complete reply (a server must send nothing unasked; after
  // STARTTLS's 220 such bytes could be an injection before the handshake).
  bool buffered() const { return pos_ < buf_.size() || !partial_.lines.empty(); }

 private:
  std::string buf_;
  size_t pos_ = 0;  // buf_[0, pos_) is consumed
  Reply partial_;   // a multi-line reply whose last line has not come yet
};

// What an EHLO reply offers that this client uses (keywords are case-insensitive).
struct Capabilities {
  bool starttls = false;
  bool eightbitmime = false;
  std::vector<std::string> auth;  // mechanisms, upper case ("PLAIN", "LOGIN", "CRAM-MD5")

  bool offers_auth(std::string_view mechanism) const;
};
Capabilities parse_ehlo(const Reply& reply);

// The DATA payload for a mail's text: every line end CRLF (bare CR or LF too: RFC 5321 forbids
// them alone), a '.' doubled at the start of a line (dot-stuffing) and the terminating
// ".\r\n"; a text not ending in a line end gets one first.
std::string data_payload(std::string_view text);

std::string base64(std::string_view bytes);
// AUTH PLAIN's initial response (RFC 4616): base64 of "\0user\0password".
std::string auth_plain_response(std::string_view user, std::string_view password);

// `text` with every occurrence of each non-empty secret replaced by "***": a server echoing
// what it was sent must not put credentials in an error or a log.
std::string redact(std::string text, const std::vector<std::string>& secrets);

// The EHLO/HELO argument: `hostname` when it is a fully qualified domain name (letters, digits,
// '-', with a dot), else the local address as an address literal ("[192.0.2.1]",
// "[IPv6:2001:db8::1]"), which every server accepts.
std::string ehlo_domain(std::string_view hostname, std::string_view local_address);

}  // namespace pulse::smtp
