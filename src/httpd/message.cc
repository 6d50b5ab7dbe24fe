#include "httpd/message.h"

#include <cctype>

#include "base/url.h"

namespace pulse::httpd {

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response json_response(const nlohmann::json& j, unsigned status) {
  Response r;
  r.status = status;
  r.body = dump_json(j);
  return r;
}

Response empty_response(unsigned status) {
  Response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

Response error_response(unsigned status, std::string_view error, std::string_view reason) {
  return json_response({{"error", error}, {"reason", reason}}, status);
}

Response not_found() {
  return error_response(404, "Object Not Found", "Not Found");
}

Response bad_request(std::string_view reason) {
  // RabbitMQ escapes HTML in error reasons (rabbit_mgmt_format:escape_html_tags).
  std::string escaped;
  for (char ch : reason) {
    if (ch == '<')
      escaped += "&lt;";
    else if (ch == '>')
      escaped += "&gt;";
    else if (ch == '&')
      escaped += "&amp;";
    else
      escaped.push_back(ch);
  }
  return error_response(400, "bad_request", escaped);
}

Response method_not_allowed(std::string_view allow) {
  Response r = empty_response(405);
  r.headers.emplace_back("allow", std::string(allow));
  return r;
}

Response login_failed(std::string_view reason) {
  Response r = error_response(401, "not_authorized", reason);
  r.headers.emplace_back("www-authenticate", "Basic realm=\"RabbitMQ Management\"");
  return r;
}

Response not_authorised(std::string_view reason) {
  return error_response(401, "not_authorised", reason);
}

std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
  return percent_decode(s, plus_is_space);
}

bool parse_target(std::string_view target, Request& out) {
  std::string_view path = target, query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  out.path = std::string(path);
  // Segments are split before decoding, so "%2F" (the default vhost) stays one segment.
  std::vector<std::string> segs;
  size_t pos = 0;
  if (path.empty() || path[0] != '/') return false;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string_view seg = path.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    auto d = url_decode(seg, false);
    if (!d) return false;
    segs.push_back(std::move(*d));
    if (next == std::string_view::npos) break;
    pos = next;
  }
  // A trailing slash adds an empty segment; RabbitMQ's routes treat "/api/queues/" as
  // "/api/queues".
  if (!segs.empty() && segs.back().empty()) segs.pop_back();
  out.under_api = !segs.empty() && segs[0] == "api";
  if (out.under_api) segs.erase(segs.begin());
  out.segments = std::move(segs);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    auto k = url_decode(kv.substr(0, eq), true);
    auto v =
        url_decode(eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1), true);
    if (!k || !v) return false;
    out.query[*k] = *v;
  }
  return true;
}

}  // namespace pulse::httpd
