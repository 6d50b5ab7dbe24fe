#include "http/decode.h"

#include <charconv>

namespace pulse::http {

using nlohmann::json;

std::string erlang_list(const std::vector<std::string>& terms) {
  size_t width = 2;
  for (const auto& t : terms) width += t.size() + 1;
  const char* sep = width - 1 <= 80 ? "," : ",\n ";
  std::string out = "[";
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) out += sep;
    out += terms[i];
  }
  return out + "]";
}

std::optional<Response> require_keys(const json& body, std::initializer_list<const char*> keys) {
  std::vector<std::string> missing;
  for (const char* k : keys)
    if (!body.contains(k)) missing.push_back(std::string("{key_missing,") + k + "}");
  if (missing.empty()) return std::nullopt;
  return bad_request(erlang_list(missing));
}

Response bad_request_term(std::string_view tag, const json& value) {
  return json_response({{"error", "bad_request"}, {"reason", json::array({tag, value})}}, 400);
}

std::optional<Response> read_flag(const json& body, const char* key, bool& out) {
  auto it = body.find(key);
  if (it == body.end()) return std::nullopt;
  if (it->is_boolean()) {
    out = it->get<bool>();
    return std::nullopt;
  }
  if (it->is_string() && (*it == "true" || *it == "false")) {
    out = *it == "true";
    return std::nullopt;
  }
  return bad_request_term("not_boolean", *it);
}

std::optional<Response> read_int(const json& value, int64_t& out) {
  if (value.is_number_integer()) {
    out = value.get<int64_t>();
    return std::nullopt;
  }
  if (value.is_number_float()) {  // Erlang's parse_int truncates a float
    out = static_cast<int64_t>(value.get<double>());
    return std::nullopt;
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, out);
    if (ec == std::errc() && p == end && !s.empty()) return std::nullopt;
  }
  return bad_request_term("not_integer", value);
}

}  // namespace pulse::http
