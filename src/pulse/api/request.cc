#include "pulse/api/request.h"

#include <algorithm>

#include "base/url.h"

namespace pulse::api {

using nlohmann::json;

bool Principal::has_tag(std::string_view tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

std::string ApiResponse::text() const {
  if (body.is_null()) return {};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiResponse not_running() {
  return error_response(503, "unavailable", "the guardian is not running");
}

namespace {
bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}
}  // namespace

std::optional<ApiResponse> check_amqp_name(const std::string& s, const char* what) {
  if (s.empty()) return bad_request(std::string(what) + " is empty");
  if (s.size() > 255) return bad_request(std::string(what) + " is longer than 255 bytes");
  if (!valid_utf8(s)) return bad_request(std::string(what) + " is not valid UTF-8");
  return std::nullopt;
}

bool parse_target(std::string_view target, ApiRequest& out) {
  std::string_view path = target, query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  out.segments.clear();
  while (!path.empty()) {
    const size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (seg.empty()) continue;
    auto d = percent_decode(seg, false);
    if (!d) return false;
    out.segments.push_back(std::move(*d));
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    auto k = percent_decode(kv.substr(0, eq), true);
    auto v =
        percent_decode(eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1), true);
    if (!k || !v) return false;
    out.query[*k] = std::move(*v);
  }
  return true;
}

ApiResponse error_response(unsigned status, std::string_view error, std::string_view reason) {
  ApiResponse r;
  r.status = status;
  r.body = {{"error", error}, {"reason", reason}};
  return r;
}

ApiResponse bad_request(std::string_view reason) {
  return error_response(400, "bad_request", reason);
}
ApiResponse access_refused(std::string_view reason) {
  return error_response(403, "access_refused", reason);
}
ApiResponse not_found(std::string_view reason) {
  return error_response(404, "Object Not Found", reason);
}
ApiResponse conflict(std::string_view reason) {
  return error_response(409, "conflict", reason);
}

ApiResponse method_not_allowed(std::string_view allow) {
  ApiResponse r =
      error_response(405, "method_not_allowed", "allowed methods: " + std::string(allow));
  r.headers.emplace_back("allow", allow);
  return r;
}

ApiResponse from_error(const Error& e) {
  switch (e.code) {
    case 400:
      return bad_request(e.text);
    case 403:
      return access_refused(e.text);
    case 404:
      return not_found(e.text);
    case 409:
    case 405:  // the broker's RESOURCE_LOCKED (an exclusive queue)
    case 406:  // the broker's PRECONDITION_FAILED
      return conflict(e.text);
    case 503:
      return error_response(503, "unavailable", e.text);
    default:
      return error_response(500, "internal_error", e.text);
  }
}

ApiResponse json_response(nlohmann::json body, unsigned status) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse no_content() {
  ApiResponse r;
  r.status = 204;
  return r;
}

std::optional<BodyReader> BodyReader::parse(const std::string& text, ApiResponse& error) {
  if (text.size() > kMaxBody) {
    error = bad_request("the request body is larger than " + std::to_string(kMaxBody) + " bytes");
    return std::nullopt;
  }
  if (text.empty()) return BodyReader(json::object());
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    error = bad_request("the request body is not JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = bad_request("the request body must be a JSON object");
    return std::nullopt;
  }
  return BodyReader(std::move(j));
}

void BodyReader::only(std::initializer_list<std::string_view> known) {
  for (const auto& [key, _] : j_.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string names;
    for (auto k : known) names += (names.empty() ? "" : ", ") + std::string(k);
    fail("unknown field '" + key + "' (expected " + (names.empty() ? "none" : names) + ")");
  }
}

std::optional<std::string> BodyReader::string(const char* key, size_t max, bool required) {
  auto it = j_.find(key);
  if (it == j_.end()) {
    if (required) fail(std::string("'") + key + "' is missing");
    return std::nullopt;
  }
  if (!it->is_string()) {
    fail(std::string("'") + key + "' must be a string");
    return std::nullopt;
  }
  std::string v = it->get<std::string>();
  if (v.size() > max) {
    fail(std::string("'") + key + "' is longer than " + std::to_string(max) + " characters");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> BodyReader::boolean(const char* key) {
  auto it = j_.find(key);
  if (it == j_.end()) return std::nullopt;
  if (!it->is_boolean()) {
    fail(std::string("'") + key + "' must be true or false");
    return std::nullopt;
  }
  return it->get<bool>();
}

std::optional<uint64_t> BodyReader::integer(const char* key, uint64_t min, uint64_t max,
                                            const char* unit) {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::nullopt;
  const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    fail(std::string("'") + key + "' must be " + unit + range);
    return std::nullopt;
  }
  const uint64_t v = it->get<uint64_t>();
  if (v < min || v > max) {
    fail(std::string("'") + key + "' must be " + unit + range + ", not " + std::to_string(v));
    return std::nullopt;
  }
  return v;
}

}  // namespace pulse::api
