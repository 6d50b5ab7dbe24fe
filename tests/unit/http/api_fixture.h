#pragma once
// Shared fixture for management API unit tests: a Broker and an AuthStore holding the
// integration suite's users, vhosts and permissions (tests/integration/harness/defs.py), and
// call(), which sends one request through pulse::http::Api in-process. No scheduler is set,
// so every controller answers before handle() returns; no Hooks either (persistence and the
// live-connection views belong to app/ and server/).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth_store.h"
#include "auth/password.h"
#include "broker/broker.h"
#include "http/api.h"
#include "http/message.h"

namespace pulse::http::testing {

using nlohmann::json;

// What a client sees of one answer.
struct Reply {
  unsigned status = 0;
  std::string body;
  nlohmann::json json;  // the parsed body; null when the body is empty
  std::vector<std::pair<std::string, std::string>> headers;

  // The header's value, nullopt when absent (names are compared as the server writes them:
  // lower case).
  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return std::nullopt;
  }
};

// RabbitMQ's error body.
inline json error_body(const std::string& error, const std::string& reason) {
  return {{"error", error}, {"reason", reason}};
}
inline json bad_request_body(const json& reason) {
  return {{"error", "bad_request"}, {"reason", reason}};
}
inline const json kNotFound = error_body("Object Not Found", "Not Found");

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() {
    broker.add_vhost("/");
    broker.add_vhost("pulse-test");
    user("guest", "guest", {"administrator"});
    user("alice", "alice-secret1", {"management"});
    user("bob", "bob-secret2", {});
    user("mon", "mon-secret", {"monitoring"});
    user("pol", "pol-secret", {"policymaker"});
    permit("guest", "/", ".*", ".*", ".*");
    permit("guest", "pulse-test", ".*", ".*", ".*");
    permit("alice", "/", "^alice\\.", "^(alice\\.|amq\\.default$|amq\\.topic$)", ".*");
    permit("alice", "pulse-test", ".*", ".*", ".*");
    permit("bob", "/", "^bob\\.", "^bob\\.", "^bob\\.");
    permit("pol", "/", ".*", ".*", ".*");
    EXPECT_TRUE(auth.set_topic_permissions("alice", "/", "amq.topic", "^alice\\.", "^alice\\."));
  }

  void user(const std::string& name, const std::string& password, std::vector<std::string> tags) {
    ASSERT_TRUE(auth.add_user(name, password, std::move(tags)));
    passwords_.emplace_back(name, password);
  }
  void permit(const std::string& user, const std::string& vhost, const std::string& conf,
              const std::string& write, const std::string& read) {
    ASSERT_TRUE(auth.set_permissions(user, vhost, conf, write, read));
  }

  // A request as `user` with the password the fixture gave it.
  Reply call(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& as = "guest") {
    std::string password;
    for (const auto& [n, p] : passwords_)
      if (n == as) password = p;
    return call_with(method, target, body, basic(as, password));
  }

  // A request with this Authorization header value ("" sends none).
  Reply call_with(const std::string& method, const std::string& target, const std::string& body,
                  const std::string& authorization) {
    Request req;
    EXPECT_TRUE(parse_target(target, req)) << target;
    req.method = method;
    req.body = body;
    req.authorization = authorization;
    std::optional<Response> got;
    api.handle(std::move(req), [&](Response r) { got = std::move(r); });
    Reply out;
    if (!got) {
      ADD_FAILURE() << method << " " << target << ": no answer";
      return out;
    }
    out.status = got->status;
    out.body = got->body;
    out.headers = got->headers;
    if (!got->body.empty()) out.json = json::parse(got->body, nullptr, false);
    return out;
  }

  static std::string basic(const std::string& user, const std::string& password) {
    return "Basic " + auth::base64_encode(user + ":" + password);
  }

  broker::VHost& vhost(const std::string& name = "/") { return *broker.find_vhost(name); }

  broker::Broker broker;
  auth::AuthStore auth;
  Api api{broker, auth, Hooks{}, "rabbit@localhost"};

 private:
  std::vector<std::pair<std::string, std::string>> passwords_;
};

// "/api/queues/%2F/name": paths of the default vhost.
inline std::string on_root(const std::string& kind, const std::string& rest) {
  return "/api/" + kind + "/%2F/" + rest;
}

}  // namespace pulse::http::testing
