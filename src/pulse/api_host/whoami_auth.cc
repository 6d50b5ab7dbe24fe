#include "pulse/api_host/whoami_auth.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "mgmt/errors.h"
#include "pulse/admin_http/http_broker_admin.h"

namespace pulse::api {

namespace {

std::string sha256(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace

std::optional<Principal> principal_from_whoami(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  Principal p;
  p.name = j["name"].get<std::string>();
  p.tags = admin::user_tags(j);
  return p;
}

std::variant<Principal, httpd::Response> WhoamiAuth::authenticate(const httpd::Request& req) {
  // No credentials: nothing to ask RabbitMQ about; its own answer to that.
  if (req.authorization.empty()) return httpd::login_failed();
  const std::string key = sha256(req.authorization);
  const auto now = Clock::now();
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (it->second.until > now) return it->second.who;
    cache_.erase(it);
  }
  auto reply = rabbit_.request("GET", "/api/whoami", {}, {{"authorization", req.authorization}});
  if (!reply) {
    spdlog::warn("pulse: sign-in: RabbitMQ's whoami did not answer: {}", reply.error().text);
    return httpd::error_response(503, "unavailable",
                                 "the broker could not be reached: " + reply.error().text);
  }
  if (reply->status != 200) {
    // RabbitMQ's refusal as it gave it (401 and its body, WWW-Authenticate).
    httpd::Response r = httpd::empty_response(reply->status);
    r.body = reply->body;
    for (const auto& [k, v] : reply->headers) {
      if (k == "content-type") r.content_type = v;
      if (k == "www-authenticate") r.headers.emplace_back(k, v);
    }
    if (reply->status >= 500) {
      return httpd::error_response(
          503, "unavailable",
          "the broker failed the sign-in: HTTP " + std::to_string(reply->status));
    }
    return r;
  }
  auto who = principal_from_whoami(reply->body);
  if (!who) {
    return httpd::error_response(503, "unavailable",
                                 "the broker's whoami answer is not what RabbitMQ sends");
  }
  if (cache_.size() >= kMaxEntries) {
    std::erase_if(cache_, [&](const auto& e) { return e.second.until <= now; });
    if (cache_.size() >= kMaxEntries) cache_.clear();
  }
  cache_[key] = Entry{*who, now + ttl_};
  return *who;
}

}  // namespace pulse::api
