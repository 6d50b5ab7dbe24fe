#include "pulse/smtp/smtp_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace pulse::smtp {
namespace {

void global_init() {
  // curl_global_init is not thread-safe on every libcurl build: once, before any handle.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  std::string text;
  size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t len = std::min(size * n, up->text.size() - up->pos);
  std::copy_n(up->text.data() + up->pos, len, buf);
  up->pos += len;
  return len;
}

int progress_cb(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort && abort->load() ? 1 : 0;
}

// What the server said, read from curl's protocol trace: its last reply line, and the
// recipients it refused (curl goes on with the others but does not say which failed).
struct Transcript {
  std::string last_reply;
  std::string pending_rcpt;
  std::vector<std::string> refused;
};

std::string trim_crlf(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

int debug_cb(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto* t = static_cast<Transcript*>(user);
  const std::string_view text(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    // Only RCPT is kept: AUTH lines carry credentials.
    t->pending_rcpt.clear();
    if (text.starts_with("RCPT TO:")) t->pending_rcpt = trim_crlf(text.substr(8));
  } else if (type == CURLINFO_HEADER_IN) {
    const std::string line = trim_crlf(text);
    if (line.size() < 3) return 0;
    t->last_reply = line;
    // "250-..." continues a reply; only the final line ("250 ...") ends it.
    if (line.size() > 3 && line[3] == '-') return 0;
    if (!t->pending_rcpt.empty() && (line[0] == '4' || line[0] == '5')) {
      t->refused.push_back(t->pending_rcpt + ": " + line);
    }
    t->pending_rcpt.clear();
  }
  return 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

SmtpClient::SmtpClient(SmtpSettings settings, const std::atomic<bool>* abort)
    : settings_(std::move(settings)), abort_(abort) {
  global_init();
}

std::string SmtpClient::url() const {
  const bool implicit = effective_tls(settings_) == TlsMode::kTls;
  std::string host = settings_.host;
  if (host.find(':') != std::string::npos && !host.starts_with("[")) host = "[" + host + "]";
  return std::string(implicit ? "smtps://" : "smtp://") + host + ":" +
         std::to_string(effective_port(settings_));
}

Result<SendOutcome> SmtpClient::send(const Mail& mail) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error{kTransient, url() + ": curl_easy_init failed"};
  CURL* c = curl.get();
  Upload up{render_mail(mail), 0};
  Transcript tr;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string target = url();
  const std::string mail_from = "<" + mail.from + ">";
  curl_slist* raw = nullptr;
  for (const auto& to : mail.to) raw = curl_slist_append(raw, ("<" + to + ">").c_str());
  std::unique_ptr<curl_slist, SlistDeleter> rcpt(raw);
  const long timeout_ms = static_cast<long>(settings_.timeout.count()) * 1000;

  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a multi-threaded process
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  // One bad owner address must not cost the admins their copy.
#if LIBCURL_VERSION_NUM >= 0x080200  // renamed in 8.2 (the old name had a typo)
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(up.text.size()));
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &tr);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, abort_);

  const TlsMode tls = effective_tls(settings_);
  // STARTTLS is required, never "if offered": a server (or someone in between) that hides
  // the capability must not get the mail, or the credentials, in clear.
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   tls == TlsMode::kStartTls ? long(CURLUSESSL_ALL) : long(CURLUSESSL_NONE));
  if (tls != TlsMode::kNone) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, settings_.verify_peer ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, settings_.verify_peer ? 2L : 0L);
    if (!settings_.cacertfile.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, settings_.cacertfile.c_str());
    }
  }
  if (!settings_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.password.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  SendOutcome out;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.reply_code);
  out.refused = std::move(tr.refused);
  if (rc == CURLE_OK) return out;

  std::string text = target + ": " + curl_easy_strerror(rc);
  if (rc == CURLE_ABORTED_BY_CALLBACK) text = target + ": aborted (shutting down)";
  if (errbuf[0] != '\0' && std::string_view(errbuf) != curl_easy_strerror(rc)) {
    text += " (" + trim_crlf(errbuf) + ")";
  }
  if (!out.refused.empty()) {
    for (const auto& r : out.refused) text += "; refused " + r;
  } else if (!tr.last_reply.empty()) {
    text += "; server said: " + tr.last_reply;
  }
  const bool permanent = out.reply_code >= 500 && out.reply_code < 600;
  return Error{permanent ? kPermanent : kTransient, text};
}

}  // namespace pulse::smtp
