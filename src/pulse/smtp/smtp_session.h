#pragma once
// One SMTP connection over Boost.Asio and OpenSSL, blocking its caller: connect, TLS (implicit
// or after STARTTLS) with certificate and host name verification, commands and their replies.
// Every step runs against one deadline (the whole exchange's) and polls `abort` every 100 ms;
// after a failure of the connection itself (timeout, abort, I/O or TLS error, a malformed
// reply) the session is dead and every further call fails at once.
//
// Errors carry kTransient and say what failed ("cannot connect: Connection refused", "timed
// out (pulse.smtp.timeout = 30 s) waiting for the reply to RCPT TO"); replies, whatever their
// code, are the caller's to judge. Nothing here logs.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "pulse/smtp/settings.h"
#include "pulse/smtp/smtp_protocol.h"

namespace pulse::smtp {

class SmtpSession {
 public:
  using Clock = std::chrono::steady_clock;

  // `settings` gives the timeout's value for errors and the TLS verification settings.
  SmtpSession(const SmtpSettings& settings, Clock::time_point deadline,
              const std::atomic<bool>* abort);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  // Resolves `host` (a name, an address, or "[v6 address]") and connects to the first address
  // that answers.
  Status connect(const std::string& host, int port);
  // The TLS handshake on the connection: SNI for host names, the certificate verified against
  // pulse.smtp.cacertfile or the system's CAs and checked against `host` (unless verify_none).
  Status start_tls(const std::string& host);
  // Sends `line` + CRLF and reads the reply. `name` says which command in errors ("RCPT TO"):
  // `line` itself is never shown (it may hold credentials).
  Result<Reply> command(std::string_view line, std::string_view name);
  // Reads one reply; `waiting_for` goes into errors ("the server's greeting").
  Result<Reply> read_reply(std::string_view waiting_for);
  // Sends raw bytes (the DATA payload); `what` goes into errors.
  Status write(std::string_view bytes, std::string_view what);

  bool alive() const { return !dead_; }
  bool tls_active() const;
  // Whether the server sent bytes nobody asked for yet (see ReplyParser::buffered).
  bool buffered() const { return parser_.buffered(); }
  // The argument for EHLO/HELO (see ehlo_domain); empty before connect().
  std::string ehlo_name() const;

 private:
  struct Io;

  Status fail(std::string text);
  // Runs the io_context until `done`, the deadline or `abort`; `what` describes the step for
  // a timeout ("connecting", "waiting for the reply to DATA").
  Status wait(const bool& done, std::string_view what);
  void shut();

  const SmtpSettings& settings_;
  Clock::time_point deadline_;
  const std::atomic<bool>* abort_;
  std::unique_ptr<Io> io_;
  ReplyParser parser_;
  bool dead_ = false;
};

}  // namespace pulse::smtp
