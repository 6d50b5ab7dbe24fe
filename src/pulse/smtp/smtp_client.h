#pragma once
// Sends one mail over SMTP (RFC 5321, over SmtpSession: Boost.Asio and OpenSSL): plain,
// STARTTLS (required, never optional) or implicit TLS, AUTH PLAIN or LOGIN when a username is
// set, the whole exchange bounded by the settings' timeout. Blocks its caller: the
// SmtpNoticeSink calls it from its own thread.
#include <atomic>
#include <string>
#include <vector>

#include "base/result.h"
#include "pulse/smtp/message.h"
#include "pulse/smtp/settings.h"

namespace pulse::smtp {

struct SendOutcome {
  // Recipients the server refused while it took the mail for the others, each with the
  // server's reply: "<a@b>: 550 5.1.1 no such user".
  std::vector<std::string> refused;
  // The reply code to the end of the mail's data (250).
  long reply_code = 0;
};

// Error codes of a failed send, in Error::code: whether it may succeed later.
inline constexpr uint16_t kTransient = 451;  // connection, timeout, TLS, 4xx replies
inline constexpr uint16_t kPermanent = 550;  // a 5xx reply: retrying the same mail is useless

class SmtpClient {
 public:
  // `settings` must have passed validate() and be enabled(). `abort`, when given, stops a
  // send in progress soon after it becomes true (shutdown).
  explicit SmtpClient(SmtpSettings settings, const std::atomic<bool>* abort = nullptr);

  // Error text: "smtp://host:port: <what failed>; server said: <the last reply>", or, when
  // every recipient was refused, "...: every recipient was refused; refused <a@b>: 550 ...".
  // Never holds credentials.
  Result<SendOutcome> send(const Mail& mail);

  // "smtp://127.0.0.1:2525", "smtps://mail.example.org:465".
  std::string url() const;

 private:
  SmtpSettings settings_;
  const std::atomic<bool>* abort_;
};

}  // namespace pulse::smtp
