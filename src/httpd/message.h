#pragma once
// An HTTP request and response, free of Beast so handlers (the management API controllers,
// the Pulse API) compile cheaply, with RabbitMQ's error bodies and URL decoding.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pulse::httpd {

struct Request {
  std::string method;                        // "GET", "PUT", ...
  std::string path;                          // raw target path, without the query
  std::string target;                        // raw target as sent: path and query
  bool under_api = false;                    // the path starts with /api
  std::vector<std::string> segments;         // URL-decoded path segments (after "/api")
  std::map<std::string, std::string> query;  // URL-decoded; the last of repeated keys wins
  std::string body;
  std::string authorization;  // the Authorization header
  std::string x_reason;       // X-Reason (DELETE of a connection)
  std::string content_type;   // Content-Type (relayed by pulse-guardian's proxy)
  std::string if_none_match;  // If-None-Match (static pages' ETags)
  std::string peer_address;   // the client's IP address; empty when unknown
  bool peer_loopback = false;
  // Every request header, names lower-cased (a repeated header: the last one). For handlers
  // that read headers of their own (pulse-bridge's X-Hub-Signature-256, X-GitHub-Event).
  std::map<std::string, std::string> headers;

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
  const std::string* param(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? nullptr : &it->second;
  }
};

struct Response {
  unsigned status = 200;
  std::string body;  // empty: no content type either
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool columns_applied = false;  // a list whose items were projected as they were added
};

// JSON bodies as the management API writes them; invalid UTF-8 in names (AMQP short strings
// are bytes) is replaced rather than thrown on.
std::string dump_json(const nlohmann::json& j);

Response json_response(const nlohmann::json& j, unsigned status = 200);
Response empty_response(unsigned status);  // 201, 204, ...
// RabbitMQ's error body: {"error": error, "reason": reason}.
Response error_response(unsigned status, std::string_view error, std::string_view reason);
Response not_found();  // 404 {"error":"Object Not Found","reason":"Not Found"}
Response bad_request(std::string_view reason);  // 400 {"error":"bad_request",...}
// 405 with the allowed methods, as cowboy answers (no body).
Response method_not_allowed(std::string_view allow);
// RabbitMQ's 401s: "not_authorized" for failed logins (with WWW-Authenticate) and
// "not_authorised" for a missing tag or vhost access.
Response login_failed(std::string_view reason = "Login failed");
Response not_authorised(std::string_view reason);

// Percent-decoding of one path segment or query component ('+' is a space only in queries).
// nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);
// Splits "/api/queues/%2F/q?x=1" into decoded segments after "api" and the query map.
// False for a malformed target (the request is answered 400).
bool parse_target(std::string_view target, Request& out);

}  // namespace pulse::httpd
