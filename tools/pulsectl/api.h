#pragma once
// The management API as pulsectl uses it: JSON in and out, and every failure turned into the
// message and exit status the user sees (exit_codes.h).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "mgmt/http_client.h"

namespace pulse::ctl {

using nlohmann::json;
// The HTTP client is a library (src/mgmt) that pulse_admin_http shares.
using mgmt::encode_segment;
using mgmt::Headers;
using mgmt::HttpClient;
using mgmt::HttpReply;
using mgmt::parse_url;
using mgmt::TlsSettings;
using mgmt::Url;

// What a request is about, for the error when it is not found: "queue 'q'" in vhost "v".
// With a vhost, a 404 first checks whether the vhost itself is missing, so the message names
// the right object.
struct Subject {
  std::string what;
  std::optional<std::string> vhost;
};

// An answer of /api/pulse: its status and JSON body (null for 204).
struct PulseReply {
  unsigned status = 0;
  json body;
};

class Api {
 public:
  explicit Api(HttpClient client) : client_(std::move(client)) {}

  Result<json> get(const std::string& path, const Subject& subject);
  // PUT/POST/DELETE; the result is the HTTP status (201 created, 204 existed or done).
  Result<unsigned> put(const std::string& path, const json& body, const Subject& subject);
  Result<unsigned> post(const std::string& path, const json& body, const Subject& subject);
  Result<unsigned> del(const std::string& path, const Subject& subject, const Headers& extra = {});

  // /api/pulse (pulse_*.cc): its reasons name the object, so they are the message; 403 exits 77
  // as 401 does (other credentials are needed); a bare "Not Found" means no Pulse API there.
  Result<PulseReply> pulse(const std::string& method, const std::string& path,
                           const json* body = nullptr);

  const std::string& user() const { return client_.user(); }
  const Url& url() const { return client_.url(); }

 private:
  Result<HttpReply> call(const std::string& method, const std::string& path,
                         const std::string& body, const Subject& subject,
                         const Headers& extra = {});
  Error failure(const HttpReply& reply, const Subject& subject);

  HttpClient client_;
};

// One encoded path segment: "/api/queues/" + seg(vhost) + "/" + seg(name).
inline std::string seg(const std::string& s) {
  return encode_segment(s);
}

// "queue 'q' in vhost '/'"
std::string in_vhost(const std::string& what, const std::string& vhost);

}  // namespace pulse::ctl
