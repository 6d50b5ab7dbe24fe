// /owners, /users and /namespaces: the account service's operations, with who may call which.
#include <algorithm>

#include "pulse/api/api.h"
#include "pulse/api/json_views.h"

namespace pulse::api {

using nlohmann::json;

namespace {

bool is_method(const ApiRequest& r, std::initializer_list<std::string_view> methods) {
  return std::find(methods.begin(), methods.end(), r.method) != methods.end();
}

// A Pulse user's name or a namespace from the path: the account service checks its rule; the
// length is checked here (queue/<name>/... must still fit an AMQP short string).
std::optional<ApiResponse> check_name_length(const std::string& name, const char* what) {
  if (name.size() <= kMaxName) return std::nullopt;
  return bad_request(std::string(what) + " is longer than " + std::to_string(kMaxName) +
                     " characters");
}

}  // namespace

ApiResponse PulseApi::owners(const ApiRequest& req, const Caller& caller) {
  const auto& seg = req.segments;
  if (seg.size() == 1) {
    if (req.method != "GET") return method_not_allowed("GET");
    if (!caller.admin) return access_refused("only administrators may list the owners");
    json out = json::array();
    for (const auto& o : accounts_.owners())
      out.push_back(owner_json(o, accounts_.users_owned_by(o.email)));
    return json_response(std::move(out));
  }
  if (seg.size() != 2) return not_found("Not Found");
  if (!is_method(req, {"GET", "PUT", "DELETE"})) return method_not_allowed("GET, PUT, DELETE");
  const std::string& email = seg[1];
  const bool self = email == caller.name;
  const auto existing = accounts_.find_owner(email);

  if (req.method == "GET") {
    if (!caller.admin && !self) return access_refused("an owner may only see its own record");
    if (!existing) return not_found("no owner '" + email + "'");
    return json_response(owner_json(*existing, accounts_.users_owned_by(email)));
  }
  if (req.method == "DELETE") {
    if (!caller.admin) return access_refused("only administrators may delete owners");
    if (auto s = accounts_.delete_owner(email); !s) return from_error(s.error());
    return no_content();
  }

  ApiResponse error;
  auto body = BodyReader::parse(req.body, error);
  if (!body) return error;
  body->only({"display_name", "admin", "password"});
  auto display_name = body->string("display_name", kMaxText);
  auto admin = body->boolean("admin");
  auto password = body->string("password", kMaxPassword);
  if (!body->ok()) return bad_request(body->error());
  if (email.size() > kMaxEmail)
    return bad_request("an owner email is longer than " + std::to_string(kMaxEmail) +
                       " characters");

  if (!existing) {
    if (!caller.admin) return access_refused("only administrators may create owners");
    auto made =
        accounts_.create_owner(email, display_name.value_or(""), admin.value_or(false), clock_());
    if (!made) return from_error(made.error());
    if (password) {
      if (auto s = accounts_.set_owner_password(email, *password); !s) {
        (void)accounts_.delete_owner(email);  // all or nothing
        return from_error(s.error());
      }
    }
    return json_response(owner_json(*accounts_.find_owner(email), {}), 201);
  }
  if (!caller.admin && !self) return access_refused("an owner may only change its own record");
  if (admin && *admin != existing->admin && !caller.admin)
    return access_refused("only administrators may change an owner's admin flag");
  // The password first: it is the step most likely refused, and then nothing changed.
  if (password)
    if (auto s = accounts_.set_owner_password(email, *password); !s) return from_error(s.error());
  auto updated = accounts_.update_owner(email, {display_name, admin});
  if (!updated) return from_error(updated.error());
  return json_response(owner_json(*updated, accounts_.users_owned_by(email)));
}

ApiResponse PulseApi::users(const ApiRequest& req, const Caller& caller) {
  const auto& seg = req.segments;
  const accounts::Actor actor = caller.actor();
  auto with_count = [](const accounts::UserQueues& uq) {
    json j = user_json(uq.user);
    j["queue_count"] = uq.queues.size();
    return j;
  };
  if (seg.size() == 1) {
    if (req.method != "GET") return method_not_allowed("GET");
    auto all = accounts_.users_of(actor);
    if (!all) return from_error(all.error());
    json out = json::array();
    for (const auto& uq : *all) out.push_back(with_count(uq));
    return json_response(std::move(out));
  }
  const std::string& name = seg[1];
  if (seg.size() == 3 && seg[2] == "queues") {
    if (req.method != "GET") return method_not_allowed("GET");
    auto uq = accounts_.user(actor, name);
    if (!uq) return from_error(uq.error());
    json out = json::array();
    for (const auto& q : uq->queues) out.push_back(queue_json(q));
    return json_response(std::move(out));
  }
  if (seg.size() != 2) return not_found("Not Found");
  if (!is_method(req, {"GET", "PUT", "DELETE"})) return method_not_allowed("GET, PUT, DELETE");

  if (req.method == "GET") {
    auto uq = accounts_.user(actor, name);
    if (!uq) return from_error(uq.error());
    return json_response(with_count(*uq));
  }
  if (req.method == "DELETE") {
    bool delete_queues = false;
    if (const auto it = req.query.find("delete_queues"); it != req.query.end()) {
      if (it->second != "true" && it->second != "false")
        return bad_request("'delete_queues' must be true or false");
      delete_queues = it->second == "true";
    }
    if (auto s = accounts_.delete_user(actor, name, delete_queues); !s)
      return from_error(s.error());
    return no_content();
  }

  ApiResponse error;
  auto body = BodyReader::parse(req.body, error);
  if (!body) return error;
  body->only({"password", "owner", "description"});
  auto password = body->string("password", kMaxPassword);
  auto owner = body->string("owner", kMaxEmail);
  auto description = body->string("description", kMaxText);
  if (!body->ok()) return bad_request(body->error());
  if (auto e = check_name_length(name, "a Pulse user name")) return *e;

  const auto existing = accounts_.find_user(name);
  if (!existing) {
    if (!password) return bad_request("'password' is missing");
    auto made = accounts_.create_user(actor, name, *password, description.value_or(""), clock_(),
                                      owner.value_or(""));
    if (!made) return from_error(made.error());
    json j = user_json(*made);
    j["queue_count"] = 0;
    return json_response(std::move(j), 201);
  }
  const auto& owners = existing->owners;
  if (!caller.admin && std::find(owners.begin(), owners.end(), caller.name) == owners.end())
    return access_refused("'" + caller.name + "' does not own Pulse user '" + name + "'");
  if (owner && std::find(owners.begin(), owners.end(), *owner) == owners.end())
    return bad_request("the owner of Pulse user '" + name + "' cannot be changed");
  if (!password && !description)
    return bad_request("nothing to change: give 'password' or 'description'");
  if (password)
    if (auto s = accounts_.change_password(actor, name, *password); !s)
      return from_error(s.error());
  if (description)
    if (auto s = accounts_.set_description(actor, name, *description); !s)
      return from_error(s.error());
  return json_response(user_json(*accounts_.find_user(name)));
}

ApiResponse PulseApi::namespaces(const ApiRequest& req, const Caller& caller) {
  const auto& seg = req.segments;
  if (seg.size() > 2) return not_found("Not Found");
  const char* allow = seg.size() == 1 ? "GET" : "GET, POST, DELETE";
  if (seg.size() == 1 ? req.method != "GET" : !is_method(req, {"GET", "POST", "DELETE"}))
    return method_not_allowed(allow);
  if (!caller.admin) return access_refused("only administrators may see and claim namespaces");
  const auto claims = accounts_.claims();
  if (seg.size() == 1) {
    json out = json::array();
    for (const auto& c : claims) out.push_back(claim_json(c, accounts_.settings()));
    return json_response(std::move(out));
  }
  const std::string& ns = seg[1];
  const auto found = std::find_if(claims.begin(), claims.end(),
                                  [&](const accounts::NamespaceClaim& c) { return c.ns == ns; });
  if (req.method == "GET") {
    if (found == claims.end()) return not_found("no claim of namespace '" + ns + "'");
    return json_response(claim_json(*found, accounts_.settings()));
  }
  if (req.method == "DELETE") {
    if (auto s = accounts_.release(ns); !s) return from_error(s.error());
    return no_content();
  }
  ApiResponse error;
  auto body = BodyReader::parse(req.body, error);
  if (!body) return error;
  body->only({"expires", "contact"});
  auto expires_text = body->string("expires", 64, true);
  auto contact = body->string("contact", kMaxText);
  if (!body->ok()) return bad_request(body->error());
  auto expires = parse_rfc3339(*expires_text);
  if (!expires)
    return bad_request("'expires' must be an RFC 3339 time such as 2027-01-15T08:00:00Z, not '" +
                       *expires_text + "'");
  if (auto e = check_name_length(ns, "a namespace")) return *e;
  auto creds = accounts_.claim(ns, *expires, contact, clock_());
  if (!creds) return from_error(creds.error());
  return json_response(credentials_json(*creds), found == claims.end() ? 201 : 200);
}

}  // namespace pulse::api
