#include "pulse/accounts/model.h"

#include <nlohmann/json.hpp>

#include "base/rfc3339.h"

namespace pulse::accounts {

using nlohmann::json;

namespace {

// UTC, milliseconds: "2026-12-05T13:00:00.000Z"; read back as any RFC 3339 time.
std::string format_time(TimePoint t) {
  return format_rfc3339_utc(t, 3);
}

// Reads the record's fields, remembering the first that is missing or of the wrong type.
class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}
  std::string str(const char* key, bool required = true) {
    auto it = j_.find(key);
    if (it == j_.end() && !required) return {};
    if (it == j_.end() || !it->is_string()) return bad(key, "a string"), std::string();
    return it->get<std::string>();
  }
  bool flag(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end()) return false;
    if (!it->is_boolean()) return bad(key, "a boolean"), false;
    return it->get<bool>();
  }
  TimePoint time(const char* key) {
    const auto t = parse_rfc3339(str(key));
    if (!t && error_.empty()) bad(key, "an RFC 3339 time such as 2026-12-05T13:00:00.000Z");
    return t.value_or(TimePoint{});
  }
  std::vector<std::string> strings(const char* key) {
    std::vector<std::string> out;
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_array()) return bad(key, "a list of strings"), out;
    for (const auto& v : *it) {
      if (!v.is_string()) return bad(key, "a list of strings"), out;
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  int integer(const char* key) {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_integer()) return bad(key, "an integer"), 0;
    return it->get<int>();
  }
  void bad(const char* key, const char* what) {
    if (error_.empty()) error_ = std::string("'") + key + "' must be " + what;
  }
  const std::string& error() const { return error_; }

 private:
  const json& j_;
  std::string error_;
};

}  // namespace

std::string owner_key(std::string_view email) {
  return "owner/" + std::string(email);
}
std::string user_key(std::string_view name) {
  return "user/" + std::string(name);
}
std::string claim_key(std::string_view ns) {
  return "claim/" + std::string(ns);
}

Record to_record(const Owner& o) {
  json j = {{"email", o.email},
            {"display_name", o.display_name},
            {"admin", o.admin},
            {"created", format_time(o.created)},
            {"login", o.login}};
  return {owner_key(o.email), j.dump()};
}

Record to_record(const PulseUser& u) {
  json j = {{"name", u.name},
            {"owners", u.owners},
            {"created", format_time(u.created)},
            {"description", u.description}};
  return {user_key(u.name), j.dump()};
}

Record to_record(const NamespaceClaim& c) {
  json j = {{"namespace", c.ns},
            {"expires", format_time(c.expires)},
            {"contact", c.contact},
            {"users", c.users},
            {"current", c.current},
            {"password", c.password},
            {"created", format_time(c.created)},
            {"last_rotation", format_time(c.last_rotation)}};
  return {claim_key(c.ns), j.dump()};
}

Result<AccountState> parse_records(const std::vector<Record>& records) {
  AccountState out;
  for (const Record& r : records) {
    auto refuse = [&](const std::string& why) {
      return Error{400, "account record '" + r.key + "': " + why};
    };
    const json j = json::parse(r.json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return refuse("not a JSON object");
    Reader rd(j);
    std::string id;
    if (r.key.starts_with("owner/")) {
      Owner o{rd.str("email"), rd.str("display_name", false), rd.flag("admin"), rd.time("created"),
              rd.flag("login")};
      id = owner_key(o.email);
      out.owners.push_back(std::move(o));
    } else if (r.key.starts_with("user/")) {
      PulseUser u{rd.str("name"), rd.strings("owners"), rd.time("created"),
                  rd.str("description", false)};
      id = user_key(u.name);
      out.users.push_back(std::move(u));
    } else if (r.key.starts_with("claim/")) {
      NamespaceClaim c;
      c.ns = rd.str("namespace");
      c.expires = rd.time("expires");
      c.contact = rd.str("contact", false);
      auto users = rd.strings("users");
      if (rd.error().empty() && users.size() != 2) rd.bad("users", "a list of two names");
      if (users.size() == 2) c.users = {users[0], users[1]};
      c.current = rd.integer("current");
      if (rd.error().empty() && c.current != 0 && c.current != 1) rd.bad("current", "0 or 1");
      c.password = rd.str("password");
      c.created = rd.time("created");
      c.last_rotation = rd.time("last_rotation");
      id = claim_key(c.ns);
      out.claims.push_back(std::move(c));
    } else {
      return refuse("unknown kind of record");
    }
    if (!rd.error().empty()) return refuse(rd.error());
    if (id != r.key) return refuse("the key does not match the record ('" + id + "')");
  }
  return out;
}

}  // namespace pulse::accounts
