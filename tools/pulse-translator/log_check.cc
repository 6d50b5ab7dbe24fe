#include "log_check.h"

#include "mgmt/http_client.h"

namespace pulse::translator {

LogProbe probe_log(const std::string& url, std::chrono::milliseconds timeout) {
  LogProbe p;
  auto parsed = mgmt::parse_url(url);
  if (!parsed) {
    p.detail = parsed.error().text;
    return p;
  }
  mgmt::HttpClient client(*parsed, "", "", timeout);
  client.set_user_agent("pulse-translator");
  // HEAD: whether the log is there, without its megabytes. A server that refuses HEAD is asked
  // for the first byte instead (a server that also ignores Range sends the whole log: rare).
  auto reply = client.relay("HEAD", "", "", {});
  if (reply && (reply->status == 405 || reply->status == 501)) {
    reply = client.relay("GET", "", "", {{"Range", "bytes=0-0"}});
  }
  if (!reply) {
    p.detail = reply.error().text;
    return p;
  }
  p.ready = reply->status == 200 || reply->status == 206;
  p.detail = "HTTP " + std::to_string(reply->status);
  return p;
}

}  // namespace pulse::translator
