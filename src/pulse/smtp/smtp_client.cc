#include "pulse/smtp/smtp_client.h"

#include <algorithm>
#include <optional>

#include "pulse/smtp/smtp_protocol.h"
#include "pulse/smtp/smtp_session.h"

namespace pulse::smtp {
namespace {

uint16_t code_for(int reply_code) {
  return reply_code >= 500 && reply_code < 600 ? kPermanent : kTransient;
}

// One send: the session, the server's last reply (for errors), and the strings no error may
// show (what AUTH sent holds the password).
class Exchange {
 public:
  Exchange(const SmtpSettings& settings, const std::atomic<bool>* abort, std::string url)
      : settings_(settings),
        url_(std::move(url)),
        session_(settings, SmtpSession::Clock::now() + settings.timeout, abort) {}

  Result<SendOutcome> run(const Mail& mail);

 private:
  // The session's own failure (connection, timeout, TLS, a malformed reply).
  Error broken(const Error& e) const { return Error{e.code, url_ + ": " + e.text + said()}; }
  // A step that did not go as it should; `reply_code` decides transient or permanent.
  Error failure(const std::string& what, int reply_code) {
    Error e{code_for(reply_code), url_ + ": " + what + said()};
    quit();
    return e;
  }
  std::string said() const { return last_reply_.empty() ? "" : "; server said: " + last_reply_; }

  Result<Reply> command(std::string_view line, std::string_view name) {
    auto r = session_.command(line, name);
    if (r) last_reply_ = r->text(secrets_);
    return r;
  }
  // Best effort, after the mail went through or a step failed: the outcome is known already.
  void quit() {
    if (session_.alive()) (void)session_.command("QUIT", "QUIT");
  }

  Result<Capabilities> hello();
  Status authenticate(const Capabilities& caps);

  const SmtpSettings& settings_;
  const std::string url_;
  SmtpSession session_;
  std::string last_reply_;
  std::vector<std::string> secrets_;
};

// EHLO, and HELO for a server that refuses it (no extensions then, so no STARTTLS nor AUTH).
Result<Capabilities> Exchange::hello() {
  const std::string name = session_.ehlo_name();
  auto r = command("EHLO " + name, "EHLO");
  if (!r) return broken(r.error());
  if (r->code == 250) return parse_ehlo(*r);
  if (r->code < 500) return failure("EHLO refused", r->code);
  auto h = command("HELO " + name, "HELO");
  if (!h) return broken(h.error());
  if (h->code != 250) return failure("EHLO and HELO refused", h->code);
  return Capabilities{};
}

// PLAIN when offered (one round trip), else LOGIN.
Status Exchange::authenticate(const Capabilities& caps) {
  const std::string& user = settings_.username;
  const std::string& password = settings_.password;
  const std::string plain = auth_plain_response(user, password);
  secrets_ = {plain, base64(password)};
  if (password.size() >= 4) secrets_.push_back(password);
  if (caps.offers_auth("PLAIN")) {
    auto r = command("AUTH PLAIN " + plain, "AUTH PLAIN");
    if (!r) return broken(r.error());
    if (r->code == 334) {
      // A server that wants more than the initial response: cancel (RFC 4954) and give up.
      auto c = command("*", "AUTH PLAIN");
      if (!c) return broken(c.error());
    }
    if (r->code != 235) return failure("login denied (AUTH PLAIN)", r->code);
    return {};
  }
  if (caps.offers_auth("LOGIN")) {
    auto r = command("AUTH LOGIN", "AUTH LOGIN");
    if (r && r->code == 334) r = command(base64(user), "AUTH LOGIN");
    if (r && r->code == 334) r = command(base64(password), "AUTH LOGIN");
    if (!r) return broken(r.error());
    if (r->code != 235) return failure("login denied (AUTH LOGIN)", r->code);
    return {};
  }
  if (caps.auth.empty()) {
    return failure("the server offers no AUTH (pulse.smtp.username is set)", 0);
  }
  std::string offered;
  for (const auto& m : caps.auth) offered += (offered.empty() ? "" : " ") + m;
  return failure(
      "the server offers no AUTH mechanism this client speaks (PLAIN, LOGIN), only " + offered, 0);
}

Result<SendOutcome> Exchange::run(const Mail& mail) {
  if (mail.to.empty()) return Error{kPermanent, url_ + ": the mail has no recipient"};
  const TlsMode tls = effective_tls(settings_);
  if (auto st = session_.connect(settings_.host, effective_port(settings_)); !st) {
    return broken(st.error());
  }
  if (tls == TlsMode::kTls) {
    if (auto st = session_.start_tls(settings_.host); !st) return broken(st.error());
  }
  auto greeting = session_.read_reply("the server's greeting");
  if (!greeting) return broken(greeting.error());
  last_reply_ = greeting->text();
  if (greeting->code != 220) return failure("the server refused the connection", greeting->code);

  auto caps = hello();
  if (!caps) return std::move(caps).error();
  if (tls == TlsMode::kStartTls) {
    // Required, never "if offered": a server (or someone in between) hiding the capability
    // must not get the mail, or the credentials, in clear.
    if (!caps->starttls) {
      return failure(
          "the server does not offer STARTTLS (pulse.smtp.tls = starttls: nothing is "
          "sent in clear)",
          0);
    }
    auto r = command("STARTTLS", "STARTTLS");
    if (!r) return broken(r.error());
    if (r->code != 220) return failure("STARTTLS refused", r->code);
    if (session_.buffered()) {
      // Bytes sent before the handshake would be read as if they came over TLS.
      return broken(Error{kTransient, "the server sent more than its reply to STARTTLS"});
    }
    if (auto st = session_.start_tls(settings_.host); !st) return broken(st.error());
    caps = hello();  // RFC 3207: what was offered in clear means nothing now
    if (!caps) return std::move(caps).error();
  }
  if (!settings_.username.empty()) {
    if (auto st = authenticate(*caps); !st) return std::move(st).error();
  }
  secrets_.clear();  // nothing the server says from now on answers a credential

  const std::string text = render_mail(mail);
  std::string mail_from = "MAIL FROM:<" + mail.from + ">";
  if (caps->eightbitmime && !is_ascii(text)) mail_from += " BODY=8BITMIME";
  auto r = command(mail_from, "MAIL FROM");
  if (!r) return broken(r.error());
  if (r->code / 100 != 2) return failure("MAIL FROM refused", r->code);

  // One refused recipient (a mistyped owner address) must not cost the others their mail.
  SendOutcome out;
  bool all_permanent = true;
  for (const auto& to : mail.to) {
    auto rc = command("RCPT TO:<" + to + ">", "RCPT TO");
    if (!rc) return broken(rc.error());
    if (rc->code / 100 == 2) continue;
    out.refused.push_back("<" + to + ">: " + rc->text());
    all_permanent = all_permanent && code_for(rc->code) == kPermanent;
  }
  if (out.refused.size() == mail.to.size()) {
    std::string why = url_ + ": every recipient was refused";
    for (const auto& refused : out.refused) why += "; refused " + refused;
    quit();
    return Error{all_permanent ? kPermanent : kTransient, why};
  }

  r = command("DATA", "DATA");
  if (!r) return broken(r.error());
  if (r->code != 354) return failure("DATA refused", r->code);
  if (auto st = session_.write(data_payload(text), "sending the mail"); !st) {
    return broken(st.error());
  }
  r = session_.read_reply("the reply to the mail");
  if (!r) return broken(r.error());
  last_reply_ = r->text();
  if (r->code / 100 != 2) return failure("the mail was refused", r->code);
  out.reply_code = r->code;
  quit();
  return out;
}

}  // namespace

SmtpClient::SmtpClient(SmtpSettings settings, const std::atomic<bool>* abort)
    : settings_(std::move(settings)), abort_(abort) {}

std::string SmtpClient::url() const {
  const bool implicit = effective_tls(settings_) == TlsMode::kTls;
  std::string host = settings_.host;
  if (host.find(':') != std::string::npos && !host.starts_with("[")) host = "[" + host + "]";
  return std::string(implicit ? "smtps://" : "smtp://") + host + ":" +
         std::to_string(effective_port(settings_));
}

Result<SendOutcome> SmtpClient::send(const Mail& mail) {
  Exchange exchange(settings_, abort_, url());
  return exchange.run(mail);
}

}  // namespace pulse::smtp
