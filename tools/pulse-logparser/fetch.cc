#include "fetch.h"

#include <algorithm>

#include "mgmt/errors.h"
#include "mgmt/gzip.h"
#include "mgmt/http_client.h"

namespace pulse::logparser {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMaxDelay{60000};
constexpr int kMaxRedirects = 5;

bool has_gzip_encoding(const mgmt::HttpReply& reply) {
  for (const auto& [name, value] : reply.headers) {
    if (name == "content-encoding" && value.find("gzip") != std::string::npos) return true;
  }
  return false;
}

std::string header(const mgmt::HttpReply& reply, const std::string& name) {
  for (const auto& [n, value] : reply.headers) {
    if (n == name) return value;
  }
  return {};
}

// A redirect's Location against the URL it answered: absolute, or a path on the same server.
std::string resolve(const std::string& base, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
  const size_t host_start = base.find("://") + 3;
  const size_t path_start = base.find('/', host_start);
  const std::string origin = base.substr(0, path_start);
  if (!location.empty() && location[0] == '/') return origin + location;
  const std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
  return origin + path.substr(0, path.rfind('/') + 1) + location;
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// One GET of `url_text`, following up to kMaxRedirects redirects (archived logs move).
// Errors as HttpClient's, plus kBadSettings for a URL that is not http(s).
Result<mgmt::HttpReply> get_following_redirects(std::string url_text, const FetchOptions& options) {
  for (int hop = 0;; ++hop) {
    if (url_text.rfind("http://", 0) != 0 && url_text.rfind("https://", 0) != 0) {
      return Error{mgmt::kBadSettings, "'" + url_text + "' is not an http:// or https:// URL"};
    }
    auto url = mgmt::parse_url(url_text);
    if (!url) {
      return Error{mgmt::kBadSettings,
                   "'" + url_text + "' is not a valid URL (http[s]://host[:port]/path)"};
    }
    // parse_url keeps the path and query as the base path; relay() with an empty target asks
    // for exactly that, and "/" when the URL has no path.
    const std::string target = url->base_path.empty() ? "/" : "";
    mgmt::HttpClient client(*url, "", "", options.timeout, options.tls);
    client.set_user_agent("pulse-logparser");
    client.set_accept_gzip(true);
    client.set_body_limit(options.max_bytes);
    auto reply = client.relay("GET", target, "", {});
    if (!reply || !is_redirect(reply->status)) return reply;
    const std::string location = header(*reply, "location");
    if (location.empty() || hop >= kMaxRedirects) return reply;
    url_text = resolve(url_text, location);
  }
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
  auto delay = options.retry_delay;
  for (unsigned attempt = 1;; ++attempt) {
    out.info.attempts = attempt;
    auto reply = get_following_redirects(url_text, options);
    bool retry = false;
    if (!reply) {
      out.info.http_status = 0;
      out.error = reply.error().text;  // it names the URL
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
