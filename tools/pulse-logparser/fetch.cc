#include "fetch.h"

#include <algorithm>

#include "mgmt/errors.h"
#include "mgmt/gzip.h"
#include "mgmt/http_client.h"

namespace pulse::logparser {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMaxDelay{60000};

bool has_gzip_encoding(const mgmt::HttpReply& reply) {
  for (const auto& [name, value] : reply.headers) {
    if (name == "content-encoding" && value.find("gzip") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Fetched fetch_log(const std::string& url_text, const FetchOptions& options,
                  const std::function<bool(std::chrono::milliseconds)>& sleep) {
  Fetched out;
  const auto start = Clock::now();
  const auto finish = [&]() -> Fetched {
    out.info.duration_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    return std::move(out);
  };
  if (url_text.rfind("http://", 0) != 0 && url_text.rfind("https://", 0) != 0) {
    out.error = "logurl '" + url_text + "' is not an http:// or https:// URL";
    return finish();
  }
  auto url = mgmt::parse_url(url_text);
  if (!url) {
    out.error = "logurl '" + url_text + "' is not a valid URL (http[s]://host[:port]/path)";
    return finish();
  }
  // parse_url keeps the path and query as the base path; relay() with an empty target asks for
  // exactly that, and "/" when the URL has no path.
  const std::string target = url->base_path.empty() ? "/" : "";
  mgmt::HttpClient client(*url, "", "", options.timeout, options.tls);
  client.set_user_agent("pulse-logparser");
  client.set_accept_gzip(true);
  client.set_body_limit(options.max_bytes);
  auto delay = options.retry_delay;
  for (unsigned attempt = 1;; ++attempt) {
    out.info.attempts = attempt;
    auto reply = client.relay("GET", target, "", {});
    bool retry = false;
    if (!reply) {
      out.info.http_status = 0;
      out.error = reply.error().text;
      retry = reply.error().code == mgmt::kUnreachable;
    } else {
      out.info.http_status = reply->status;
      if (reply->status >= 200 && reply->status < 300) {
        out.info.wire_bytes = reply->body.size();
        if (has_gzip_encoding(*reply)) out.info.gzip = "content-encoding";
        if (mgmt::looks_gzipped(reply->body)) {
          auto plain = mgmt::gunzip(reply->body, options.max_bytes);
          if (!plain) {
            out.error = "log " + url_text + ": " + plain.error().text;
            return finish();
          }
          out.info.gzip = "file";
          out.body = std::move(*plain);
        } else {
          out.body = std::move(reply->body);
        }
        out.info.bytes = out.body.size();
        out.error.clear();
        return finish();
      }
      out.error = "log " + url_text + ": HTTP " + std::to_string(reply->status);
      retry = reply->status >= 500 || reply->status == 429;
    }
    if (!retry || attempt >= options.attempts) return finish();
    if (!sleep(delay)) {
      out.abandoned = true;
      return finish();
    }
    delay = std::min(delay * 2, kMaxDelay);
  }
}

}  // namespace pulse::logparser
