#include "api.h"

#include "exit_codes.h"
#include "mgmt/reason.h"

namespace pulse::ctl {

namespace {

// RabbitMQ's validation reasons span lines ("Validation failed\n\n... not recognised\n");
// one line reads better on a terminal and in logs.
std::string one_line(const std::string& text) {
  std::string out, line;
  auto flush = [&] {
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty()) out += (out.empty() ? "" : ": ") + line;
    line.clear();
  };
  for (char c : text) {
    if (c == '\n') {
      flush();
    } else {
      line.push_back(c);
    }
  }
  flush();
  return out;
}

}  // namespace

std::string in_vhost(const std::string& what, const std::string& vhost) {
  return what + " in vhost '" + vhost + "'";
}

Result<HttpReply> Api::call(const std::string& method, const std::string& path,
                            const std::string& body, const Subject& subject, const Headers& extra) {
  auto reply = client_.request(method, path, body, extra);
  if (!reply) return std::move(reply).error();
  if (reply->status >= 400) return failure(*reply, subject);
  return reply;
}

Error Api::failure(const HttpReply& reply, const Subject& subject) {
  const std::string reason = one_line(mgmt::error_reason(reply));
  if (reply.status == 401) {
    // An empty 401 means no credentials reached the server; "Login failed" wrong ones; other
    // reasons name the missing tag or permission.
    return Error{kExitAuth, (reason.empty() ? std::string("Unauthorized") : reason) +
                                " (HTTP 401 for user '" + client_.user() + "' at " +
                                client_.url().text + ")"};
  }
  // RabbitMQ answers some requests naming a missing vhost with 400 (GET /api/definitions/{v}).
  if (reply.status == 400 && reason == "vhost_not_found" && subject.vhost) {
    return Error{kExitNotFound, "vhost '" + *subject.vhost + "' not found"};
  }
  if (reply.status == 404) {
    if (subject.vhost) {
      auto vh = client_.request("GET", "/api/vhosts/" + seg(*subject.vhost));
      if (vh && vh->status == 404) {
        return Error{kExitNotFound, "vhost '" + *subject.vhost + "' not found"};
      }
    }
    const std::string what = subject.what.empty() ? std::string("object") : subject.what;
    return Error{kExitNotFound,
                 (subject.vhost ? in_vhost(what, *subject.vhost) : what) + " not found"};
  }
  if (reply.status == 405) {
    return Error{kExitApiError, "the server does not support this request (HTTP 405)"};
  }
  std::string text = reason.empty() ? std::string("no reason given") : reason;
  return Error{kExitApiError, text + " (HTTP " + std::to_string(reply.status) + ")"};
}

Result<json> Api::get(const std::string& path, const Subject& subject) {
  auto reply = call("GET", path, {}, subject);
  if (!reply) return std::move(reply).error();
  json j = json::parse(reply->body, nullptr, false);
  if (j.is_discarded()) {
    return Error{kExitApiError, "the reply to GET " + path + " is not JSON (is " +
                                    client_.url().text + " a management API?)"};
  }
  return j;
}

Result<unsigned> Api::put(const std::string& path, const json& body, const Subject& subject) {
  auto reply = call("PUT", path, body.dump(), subject);
  if (!reply) return std::move(reply).error();
  return reply->status;
}

Result<unsigned> Api::post(const std::string& path, const json& body, const Subject& subject) {
  auto reply = call("POST", path, body.dump(), subject);
  if (!reply) return std::move(reply).error();
  return reply->status;
}

Result<unsigned> Api::del(const std::string& path, const Subject& subject, const Headers& extra) {
  auto reply = call("DELETE", path, {}, subject, extra);
  if (!reply) return std::move(reply).error();
  return reply->status;
}

Result<PulseReply> Api::pulse(const std::string& method, const std::string& path,
                              const json* body) {
  auto reply = client_.request(method, path, body ? body->dump() : std::string());
  if (!reply) return std::move(reply).error();
  const std::string reason = one_line(mgmt::error_reason(*reply));
  if (reply->status == 401) return failure(*reply, Subject{});
  if (reply->status == 403) {
    return Error{kExitAuth, reason + " (HTTP 403 for user '" + client_.user() + "')"};
  }
  if (reply->status == 404 && (reason.empty() || reason == "Not Found")) {
    // RabbitMQ's own answer to an unknown path: no Pulse API is served at this URL.
    return Error{kExitApiError, "there is no Pulse API at " + client_.url().text +
                                    " (HTTP 404 for " + method + " " + path +
                                    "): pulsed serves /api/pulse; RabbitMQ only through "
                                    "pulse-guardian"};
  }
  if (reply->status == 404) return Error{kExitNotFound, reason};
  if (reply->status >= 400) return failure(*reply, Subject{});
  PulseReply out{reply->status, nullptr};
  if (reply->status != 204 && !reply->body.empty()) {
    out.body = json::parse(reply->body, nullptr, false);
    if (out.body.is_discarded()) {
      return Error{kExitApiError, "the reply to " + method + " " + path + " is not JSON"};
    }
  }
  return out;
}

}  // namespace pulse::ctl
