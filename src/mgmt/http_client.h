#pragma once
// A small blocking HTTP/1.1 client on Boost.Beast for the management API: one connection per
// request (a CLI or a poller every few seconds makes few), Basic auth, a deadline on every step.
// Errors (mgmt/errors.h): kBadSettings for a malformed URL or TLS files, kUnreachable when no
// HTTP answer came back; any HTTP status is a reply, for the caller to judge.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/url.h"
#include "mgmt/http_tls.h"

namespace pulse::mgmt {

struct Url {
  std::string text;  // as given, for messages
  std::string host;
  std::string port;
  std::string base_path;  // "" or "/prefix" when the API sits behind a reverse proxy
  bool tls = false;       // https://
};

// http[s]://host[:port][/prefix]; the port defaults to 80 (http) or 443 (https) as in any URL.
Result<Url> parse_url(const std::string& text);

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  // `tls` applies to https:// URLs: the server's certificate is verified against the CAs and
  // the URL's host unless told otherwise.
  HttpClient(Url url, std::string user, std::string password, std::chrono::milliseconds timeout,
             TlsSettings tls = {});

  // method: GET, HEAD, PUT, POST, DELETE (a HEAD reply has headers and no body). target: path (with
  // query) below the URL's base path. body: sent as application/json when non-empty. Fails only
  // when no HTTP answer came back.
  Result<HttpReply> request(const std::string& method, const std::string& target,
                            const std::string& body = {}, const Headers& extra = {}) const;

  // A client's request passed on as it came (pulse-guardian's proxy of the management API):
  // `target` (path and query) below the URL's base path, exactly `headers` (the caller's own
  // Authorization, or none) and `body`; none of this client's credentials. Errors as request().
  Result<HttpReply> relay(const std::string& method, const std::string& target,
                          const std::string& body, const Headers& headers) const;

  const Url& url() const { return url_; }
  const std::string& user() const { return user_; }
  // The User-Agent header sent (default "pulse-mgmt"; pulsectl sends "pulsectl").
  void set_user_agent(std::string agent) { user_agent_ = std::move(agent); }
  // The largest reply body accepted, after gzip decoding (default: no limit, as a management
  // listing of 100k queues is tens of MiB). A larger one fails with kBadReply without reading
  // the rest, so a fetcher of build logs cannot be made to buffer an endless reply.
  void set_body_limit(std::uint64_t bytes) { body_limit_ = bytes; }
  // Sends `Accept-Encoding: gzip` and decodes a reply with `Content-Encoding: gzip` (the
  // reply's headers still say so; its body is the decoded one).
  void set_accept_gzip(bool on) { accept_gzip_ = on; }

 private:
  Url url_;
  std::string user_;
  std::string authorization_;
  std::chrono::milliseconds timeout_;
  TlsSettings tls_;
  std::string user_agent_ = "pulse-mgmt";
  std::uint64_t body_limit_ = std::numeric_limits<std::uint64_t>::max();
  bool accept_gzip_ = false;
};

// Percent-encodes one path segment (the vhost "/" becomes "%2F" as the management API expects).
inline std::string encode_segment(const std::string& s) {
  return percent_encode(s);
}

}  // namespace pulse::mgmt
