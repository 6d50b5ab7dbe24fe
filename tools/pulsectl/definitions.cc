// export / import definitions and clone vhost.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "commands.h"
#include "exit_codes.h"

namespace pulse::ctl {

namespace {

std::string definitions_path(const Ctx& c) {
  return c.opt.vhost_given ? "/api/definitions/" + seg(c.opt.vhost) : "/api/definitions";
}

Result<std::string> read_input(const std::string& file) {
  if (file == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{kExitUsage, file + ": " + std::strerror(errno)};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count(const json& defs, const char* key) {
  auto it = defs.find(key);
  return it != defs.end() && it->is_array() ? it->size() : 0;
}

std::string summary(const json& defs) {
  std::string out;
  for (const char* key :
       {"users", "vhosts", "permissions", "policies", "queues", "exchanges", "bindings"}) {
    if (size_t n = count(defs, key)) {
      out += std::string(out.empty() ? "" : ", ") + std::to_string(n) + " " + key;
    }
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

Status export_definitions(const Ctx& c, const std::string& file) {
  const std::optional<std::string> vhost =
      c.opt.vhost_given ? std::optional<std::string>(c.opt.vhost) : std::nullopt;
  auto defs = c.api.get(definitions_path(c), Subject{"definitions", vhost});
  if (!defs) return std::move(defs).error();
  const std::string text = defs->dump(2) + "\n";
  if (file == "-") {
    std::cout << text;
    return ok_status();
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out || !(out << text) || !out.flush()) {
    return Error{kExitUsage, file + ": " + std::strerror(errno)};
  }
  c.say("exported " + summary(*defs) + " to " + file);
  return ok_status();
}

Status import_definitions(const Ctx& c, const std::string& file) {
  auto text = read_input(file);
  if (!text) return std::move(text).error();
  json defs = json::parse(*text, nullptr, false);
  if (!defs.is_object()) {
    return Error{kExitUsage, (file == "-" ? std::string("standard input") : file) +
                                 ": not a JSON object of definitions"};
  }
  const std::optional<std::string> vhost =
      c.opt.vhost_given ? std::optional<std::string>(c.opt.vhost) : std::nullopt;
  auto r = c.api.post(definitions_path(c), defs, Subject{"definitions", vhost});
  if (!r) return std::move(r).error();
  c.say("imported " + summary(defs) + (vhost ? " into vhost '" + *vhost + "'" : ""));
  return ok_status();
}

// RabbitMQ has no clone operation; the management UI's "download and upload definitions for
// one vhost" is the documented way, done here in one step. Only the acting user's permissions
// are copied: the others' are a decision for an administrator, not a side effect of cloning.
Status clone_vhost(const Ctx& c, const std::string& source, const std::string& target) {
  // The vhost list rather than GET /api/vhosts/{name}: an administrator sees every vhost in
  // it, with or without permissions there (pulsed answers 401 to the single GET then).
  auto vhosts = c.api.get("/api/vhosts", Subject{"GET /api/vhosts", {}});
  if (!vhosts) return std::move(vhosts).error();
  const json* src = nullptr;
  for (const auto& v : *vhosts) {
    if (v.value("name", "") == source) src = &v;
    if (v.value("name", "") == target) {
      return Error{kExitApiError, "vhost '" + target + "' already exists"};
    }
  }
  if (src == nullptr) return Error{kExitNotFound, "vhost '" + source + "' not found"};

  auto defs = c.api.get("/api/definitions/" + seg(source), Subject{"definitions", source});
  if (!defs) return std::move(defs).error();

  json vhost_body = json::object();
  if (auto d = src->find("description"); d != src->end() && d->is_string() && !d->empty()) {
    vhost_body["description"] = *d;
  }
  auto created =
      c.api.put("/api/vhosts/" + seg(target), vhost_body, Subject{"vhost '" + target + "'", {}});
  if (!created) return std::move(created).error();

  // From here on a failure removes the half-made vhost again.
  auto undo = [&](Error e) -> Status {
    auto r = c.api.del("/api/vhosts/" + seg(target), Subject{"vhost '" + target + "'", {}});
    e.text += r ? " (vhost '" + target + "' removed again)"
                : " (and removing vhost '" + target + "' failed: " + r.error().text + ")";
    return e;
  };
  const std::string& user = c.api.user();
  auto perms = c.api.get("/api/permissions/" + seg(source) + "/" + seg(user),
                         Subject{"permissions of user '" + user + "'", source});
  if (perms) {
    json body = {{"configure", perms->value("configure", "")},
                 {"write", perms->value("write", "")},
                 {"read", perms->value("read", "")}};
    auto r = c.api.put("/api/permissions/" + seg(target) + "/" + seg(user), body,
                       Subject{"user '" + user + "'", target});
    if (!r) return undo(std::move(r).error());
  } else if (perms.error().code != kExitNotFound) {
    return undo(std::move(perms).error());
  }
  auto imported =
      c.api.post("/api/definitions/" + seg(target), *defs, Subject{"definitions", target});
  if (!imported) return undo(std::move(imported).error());
  if (!perms) {
    // Creating a vhost over the API gives its creator full permissions there; "like SRC"
    // means none here. Done last so the import cannot trip over vhost access.
    auto r = c.api.del("/api/permissions/" + seg(target) + "/" + seg(user),
                       Subject{"permissions of user '" + user + "'", target});
    if (!r && r.error().code != kExitNotFound) return undo(std::move(r).error());
  }
  c.say("cloned vhost '" + source + "' into '" + target + "': " + summary(*defs) +
        (perms ? "; user '" + user + "' has the same permissions there"
               : "; user '" + user + "' has no permissions there, as on '" + source + "'"));
  return ok_status();
}

}  // namespace pulse::ctl
