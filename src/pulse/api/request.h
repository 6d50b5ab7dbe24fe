#pragma once
// PulseApi's request and response (sans-IO: whoever serves HTTP fills and writes them), the
// error bodies, and the helpers every route uses to read a request: the body's fields with
// their types and limits, RFC 3339 times.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/rfc3339.h"
#include "pulse/admin/broker_admin.h"

namespace pulse::api {

using admin::TimePoint;

// Who signed in (the server checked the credentials): the broker user's name and tags.
struct Principal {
  std::string name;
  std::vector<std::string> tags;
  bool has_tag(std::string_view tag) const;
};

struct ApiRequest {
  std::string method;                        // "GET", "PUT", "POST", "DELETE"
  std::vector<std::string> segments;         // below /api/pulse, each percent-decoded
  std::map<std::string, std::string> query;  // decoded
  std::string body;                          // JSON text ("" reads as {})
  Principal principal;
};

struct ApiResponse {
  unsigned status = 200;
  nlohmann::json body;  // null: no body (204)
  std::vector<std::pair<std::string, std::string>> headers;
  // The body as JSON text (invalid UTF-8 in broker names replaced, not thrown on); "" for none.
  std::string text() const;
};

// "owners/a%40b.org?x=1" (what follows /api/pulse/) into `out`'s segments and query, split
// before decoding so "%2F" is a "/" inside a segment. False on a malformed escape.
bool parse_target(std::string_view target, ApiRequest& out);

// The management API's error body {"error": ..., "reason": ...}.
ApiResponse error_response(unsigned status, std::string_view error, std::string_view reason);
ApiResponse bad_request(std::string_view reason);     // 400 bad_request
ApiResponse access_refused(std::string_view reason);  // 403 access_refused
ApiResponse not_found(std::string_view reason);       // 404 Object Not Found
ApiResponse conflict(std::string_view reason);        // 409 conflict
// 405 with the allowed methods in `allow` (header and reason).
ApiResponse method_not_allowed(std::string_view allow);
// A service's or broker's error by its code: 400, 403, 404, 409, 503 as such; the broker's
// refusals (AMQP 405 locked, 406 precondition) as 409; anything else 500.
ApiResponse from_error(const Error& e);
ApiResponse json_response(nlohmann::json body, unsigned status = 200);
// 503 "the guardian is not running".
ApiResponse not_running();
ApiResponse no_content();

inline constexpr size_t kMaxBody = 64 * 1024;
inline constexpr size_t kMaxName = 100;   // Pulse user names and namespaces
inline constexpr size_t kMaxEmail = 254;  // RFC 5321's path limit
inline constexpr size_t kMaxText = 1000;  // descriptions, contacts, display names
inline constexpr size_t kMaxPassword = 1000;
inline constexpr uint64_t kMaxSeconds = 10ull * 366 * 24 * 3600;
inline constexpr uint64_t kMaxCount = 1ull << 53;  // exact in every JSON reader

// The body's fields, each checked for its type and limits; the first problem is kept and
// names the field ("'password' must be a string", "'description' is longer than 1000
// characters", "unknown field 'pasword'").
class BodyReader {
 public:
  // nullopt (and `error` set to the 400) when the body is too big or not a JSON object.
  static std::optional<BodyReader> parse(const std::string& text, ApiResponse& error);

  // Every field must be one of `known`.
  void only(std::initializer_list<std::string_view> known);
  bool has(const char* key) const { return j_.contains(key); }
  bool is_null(const char* key) const { return has(key) && j_.at(key).is_null(); }
  std::optional<std::string> string(const char* key, size_t max, bool required = false);
  std::optional<bool> boolean(const char* key);
  // An integer in [min, max]; `unit` is how the error names it ("a number of seconds").
  std::optional<uint64_t> integer(const char* key, uint64_t min, uint64_t max, const char* unit);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const nlohmann::json& doc() const { return j_; }

 private:
  explicit BodyReader(nlohmann::json j) : j_(std::move(j)) {}
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  nlohmann::json j_;
  std::string error_;
};

// A vhost or queue name (`what`: "the vhost name"): what AMQP can name, a short string of
// 1..255 bytes of UTF-8. The 400 when it is not.
std::optional<ApiResponse> check_amqp_name(const std::string& s, const char* what);

// Times are read with base's parse_rfc3339 (strict RFC 3339) and written as UTC to the second.
inline std::string format_rfc3339(TimePoint t) {
  return format_rfc3339_utc(t);
}

}  // namespace pulse::api
