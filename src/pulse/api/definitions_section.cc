#include "pulse/api/definitions_section.h"

#include <functional>
#include <string>

namespace pulse::api {

using nlohmann::json;

namespace {

constexpr uint16_t kBadRequest = 400;

Error refused(const std::string& what) {
  return Error{kBadRequest, "pulse" + what};
}

template <typename T>
json records_json(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& item : items)
    out.push_back(json::parse(accounts::to_record(item).json, nullptr, false));
  return out;
}

// One list of account records: each entry named by its identifying field, checked as the store
// checks its records (parse_records), so an import accepts exactly what a store would load.
Status read_records(const json& section, const char* list, const char* id_field,
                    const std::function<std::string(std::string_view)>& key_of,
                    std::vector<accounts::Record>& out) {
  auto it = section.find(list);
  if (it == section.end()) return {};
  if (!it->is_array()) return refused(std::string(".") + list + " must be a list");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    std::string where = std::string(".") + list + "[" + std::to_string(i) + "]";
    if (!e.is_object()) return refused(where + ": must be an object");
    auto id = e.find(id_field);
    if (id == e.end() || !id->is_string())
      return refused(where + ": '" + id_field + "' must be a string");
    where += " ('" + id->get<std::string>() + "')";
    accounts::Record r{key_of(id->get<std::string>()),
                       e.dump(-1, ' ', false, json::error_handler_t::replace)};
    if (auto parsed = accounts::parse_records({r}); !parsed) {
      // "account record '<key>': <why>": the entry is named here instead.
      std::string why = parsed.error().text;
      const std::string prefix = "account record '" + r.key + "': ";
      if (why.starts_with(prefix)) why.erase(0, prefix.size());
      return refused(where + ": " + why);
    }
    out.push_back(std::move(r));
  }
  return {};
}

Status read_guardian(const json& section, GuardianOverrides& out) {
  auto it = section.find("guardian");
  if (it == section.end()) return {};
  if (!it->is_object()) return refused(".guardian must be an object");
  for (const auto& [k, v] : it->items())
    if (k != "settings" && k != "unbounded") return refused(".guardian: unknown field '" + k + "'");
  if (auto s = it->find("settings"); s != it->end()) {
    if (auto why = read_overrides(*s, out)) return refused(".guardian.settings: " + *why);
  }
  if (auto u = it->find("unbounded"); u != it->end()) {
    if (!u->is_array()) return refused(".guardian.unbounded must be a list");
    for (size_t i = 0; i < u->size(); ++i) {
      const json& e = (*u)[i];
      const std::string where = ".guardian.unbounded[" + std::to_string(i) + "]";
      if (!e.is_object() || e.size() != 2 || !e.contains("vhost") || !e["vhost"].is_string() ||
          !e.contains("queue") || !e["queue"].is_string())
        return refused(where + ": must be {\"vhost\": string, \"queue\": string}");
      out.unbounded.insert({e["vhost"].get<std::string>(), e["queue"].get<std::string>()});
    }
  }
  return {};
}

}  // namespace

std::optional<json> export_section(const accounts::AccountState& accounts,
                                   const GuardianOverrides& guardian) {
  const bool guardian_set = guardian.interval || guardian.warn_queue_size ||
                            guardian.delete_queue_size || guardian.idle_queue_expiry ||
                            guardian.max_connection_age || !guardian.owners.empty() ||
                            !guardian.unbounded.empty();
  if (accounts.owners.empty() && accounts.users.empty() && accounts.claims.empty() && !guardian_set)
    return std::nullopt;
  json unbounded = json::array();
  for (const auto& q : guardian.unbounded)
    unbounded.push_back({{"vhost", q.vhost}, {"queue", q.name}});
  return json{{"version", kSectionVersion},
              {"owners", records_json(accounts.owners)},
              {"users", records_json(accounts.users)},
              {"claims", records_json(accounts.claims)},
              {"guardian", {{"settings", overrides_json(guardian)}, {"unbounded", unbounded}}}};
}

Result<PulseSection> parse_section(const json& j) {
  if (!j.is_object()) return refused(" must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "version" && k != "owners" && k != "users" && k != "claims" && k != "guardian")
      return refused(": unknown field '" + k + "'");
  }
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer())
    return refused(".version must be a number (" + std::to_string(kSectionVersion) + ")");
  if (v->get<int64_t>() != kSectionVersion)
    return refused(".version " + v->dump() + " is not supported (this pulsed reads version " +
                   std::to_string(kSectionVersion) + ")");
  PulseSection out;
  if (auto s = read_records(j, "owners", "email", accounts::owner_key, out.accounts); !s)
    return std::move(s).error();
  if (auto s = read_records(j, "users", "name", accounts::user_key, out.accounts); !s)
    return std::move(s).error();
  if (auto s = read_records(j, "claims", "namespace", accounts::claim_key, out.accounts); !s)
    return std::move(s).error();
  if (auto s = read_guardian(j, out.guardian); !s) return std::move(s).error();
  return out;
}

}  // namespace pulse::api
