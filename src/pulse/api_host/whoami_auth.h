#pragma once
// Sign-in for pulse-guardian's /api/pulse in front of RabbitMQ: the request's Basic credentials
// are forwarded to RabbitMQ's `GET /api/whoami`, which says who they are (name and tags), so a
// Pulse owner signs in with the broker login Pulse made for it, exactly as on pulsed. RabbitMQ's
// refusal (401: bad credentials, or a user without a management tag) is passed on with its body;
// no answer from RabbitMQ is 503. A success is remembered for `ttl` (10 s) under a SHA-256 of
// the Authorization header (never the credentials themselves), so a page's burst of requests
// costs one whoami; failures are not remembered (a password just set works at once).
//
// Thread: the caller's (pulse-guardian's loop); each whoami blocks it, bounded by the client's
// timeout.
#include <chrono>
#include <map>
#include <string>
#include <variant>

#include "httpd/message.h"
#include "mgmt/http_client.h"
#include "pulse/api/request.h"

namespace pulse::api {

class WhoamiAuth {
 public:
  static constexpr std::chrono::seconds kDefaultTtl{10};
  static constexpr size_t kMaxEntries = 1000;
  using Clock = std::chrono::steady_clock;

  // `rabbit` is the guardian's own client: its URL, TLS settings and timeout; the credentials
  // sent are the request's.
  explicit WhoamiAuth(const mgmt::HttpClient& rabbit, std::chrono::seconds ttl = kDefaultTtl)
      : rabbit_(rabbit), ttl_(ttl) {}

  // The principal, or the answer to give instead (401, 503).
  std::variant<Principal, httpd::Response> authenticate(const httpd::Request& req);
  // Forgets every remembered sign-in (after a change of owners' logins).
  void forget() { cache_.clear(); }

 private:
  struct Entry {
    Principal who;
    Clock::time_point until;
  };
  const mgmt::HttpClient& rabbit_;
  std::chrono::seconds ttl_;
  std::map<std::string, Entry> cache_;  // by SHA-256 of the Authorization header
};

// RabbitMQ's whoami body ({"name": ..., "tags": [...] or "a,b"}) as a principal; nullopt when
// it is not that shape.
std::optional<Principal> principal_from_whoami(const std::string& body);

}  // namespace pulse::api
