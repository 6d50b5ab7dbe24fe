#include "pulse/api/guardian_state.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/url.h"

namespace pulse::api {

using nlohmann::json;

namespace {

constexpr const char* kSettingsKey = "settings";
constexpr const char* kUnboundedPrefix = "unbounded/";

std::string encode(const std::string& s) {
  return percent_encode(s);
}

std::string unbounded_key(const guardian::QueueRef& q) {
  return kUnboundedPrefix + encode(q.vhost) + "/" + encode(q.name);
}

}  // namespace

json overrides_json(const GuardianOverrides& o) {
  json j = json::object();
  if (o.interval) j["interval"] = o.interval->count();
  if (o.warn_queue_size) j["warn_queue_size"] = *o.warn_queue_size;
  if (o.delete_queue_size) j["delete_queue_size"] = *o.delete_queue_size;
  if (o.idle_queue_expiry) j["idle_queue_expiry"] = o.idle_queue_expiry->count();
  if (o.max_connection_age) j["max_connection_age"] = o.max_connection_age->count();
  json owners = json::object();
  for (const auto& [name, ov] : o.owners) {
    json e = json::object();
    if (ov.warn_queue_size) e["warn_queue_size"] = *ov.warn_queue_size;
    if (ov.delete_queue_size) e["delete_queue_size"] = *ov.delete_queue_size;
    owners[name] = std::move(e);
  }
  j["owners"] = std::move(owners);
  return j;
}

std::optional<std::string> read_overrides(const json& j, GuardianOverrides& o) {
  if (!j.is_object()) return "must be an object";
  static const std::set<std::string> kFields = {"interval",           "warn_queue_size",
                                                "delete_queue_size",  "idle_queue_expiry",
                                                "max_connection_age", "owners"};
  for (const auto& [k, v] : j.items())
    if (!kFields.contains(k)) return "unknown field '" + k + "'";
  std::optional<std::string> problem;
  auto number = [&](const json& obj, const std::string& where,
                    const char* k) -> std::optional<uint64_t> {
    auto it = obj.find(k);
    if (it == obj.end()) return std::nullopt;
    if (!it->is_number_unsigned()) {
      if (!problem) problem = "'" + where + k + "' must be a whole number";
      return std::nullopt;
    }
    return it->get<uint64_t>();
  };
  auto seconds = [&](const char* k, std::optional<std::chrono::seconds>& out) {
    if (auto n = number(j, "", k)) out = std::chrono::seconds(static_cast<int64_t>(*n));
  };
  seconds("interval", o.interval);
  seconds("idle_queue_expiry", o.idle_queue_expiry);
  seconds("max_connection_age", o.max_connection_age);
  if (auto n = number(j, "", "warn_queue_size")) o.warn_queue_size = n;
  if (auto n = number(j, "", "delete_queue_size")) o.delete_queue_size = n;
  if (problem) return problem;
  if (j.contains("owners")) {
    if (!j["owners"].is_object()) return "'owners' must be an object";
    for (const auto& [name, e] : j["owners"].items()) {
      const std::string where = "owners." + name + ".";
      if (!e.is_object()) return "'owners." + name + "' must be an object";
      for (const auto& [k, v] : e.items())
        if (k != "warn_queue_size" && k != "delete_queue_size")
          return "unknown field '" + where + k + "'";
      guardian::OwnerOverride ov;
      ov.warn_queue_size = number(e, where, "warn_queue_size");
      ov.delete_queue_size = number(e, where, "delete_queue_size");
      if (problem) return problem;
      o.owners[name] = ov;
    }
  }
  return std::nullopt;
}

GuardianOverrides layer(const GuardianOverrides& under, const GuardianOverrides& over) {
  GuardianOverrides o = under;
  if (over.interval) o.interval = over.interval;
  if (over.warn_queue_size) o.warn_queue_size = over.warn_queue_size;
  if (over.delete_queue_size) o.delete_queue_size = over.delete_queue_size;
  if (over.idle_queue_expiry) o.idle_queue_expiry = over.idle_queue_expiry;
  if (over.max_connection_age) o.max_connection_age = over.max_connection_age;
  for (const auto& [name, ov] : over.owners) o.owners[name] = ov;
  o.unbounded.insert(over.unbounded.begin(), over.unbounded.end());
  return o;
}

guardian::GuardianSettings merge(const guardian::GuardianSettings& base,
                                 const GuardianOverrides& o) {
  guardian::GuardianSettings s = base;
  if (o.interval) s.interval = *o.interval;
  if (o.warn_queue_size) s.thresholds.warn_queue_size = *o.warn_queue_size;
  if (o.delete_queue_size) s.thresholds.delete_queue_size = *o.delete_queue_size;
  if (o.idle_queue_expiry) s.idle_queue_expiry = *o.idle_queue_expiry;
  if (o.max_connection_age) s.max_connection_age = *o.max_connection_age;
  for (const auto& [name, ov] : o.owners) s.owners[name] = ov;
  s.unbounded.insert(o.unbounded.begin(), o.unbounded.end());
  return s;
}

Status GuardianState::load() {
  auto records = store_.load_all();
  if (!records) return std::move(records).error();
  GuardianOverrides o;
  for (const auto& r : *records) {
    auto damaged = [&](const std::string& why) {
      return Error{500, "guardian record '" + r.key + "': " + why};
    };
    json j = json::parse(r.json, nullptr, false);
    if (r.key == kSettingsKey) {
      if (auto why = read_overrides(j, o)) return damaged("not the guardian's settings: " + *why);
    } else if (r.key.starts_with(kUnboundedPrefix)) {
      if (!j.is_object() || !j.contains("vhost") || !j["vhost"].is_string() ||
          !j.contains("queue") || !j["queue"].is_string())
        return damaged("not an unbounded flag");
      guardian::QueueRef q{j["vhost"].get<std::string>(), j["queue"].get<std::string>()};
      if (unbounded_key(q) != r.key) return damaged("the key does not match the record");
      o.unbounded.insert(std::move(q));
    } else {
      return damaged("unknown kind of record");
    }
  }
  overrides_ = std::move(o);
  return {};
}

Status GuardianState::set_settings(const GuardianOverrides& next) {
  if (auto s = store_.put({kSettingsKey, overrides_json(next).dump()}); !s) return s;
  GuardianOverrides o = next;
  o.unbounded = std::move(overrides_.unbounded);
  overrides_ = std::move(o);
  return {};
}

Status GuardianState::import(const GuardianOverrides& add) {
  const GuardianOverrides next = layer(overrides_, add);
  if (auto s = set_settings(next); !s) return s;
  for (const auto& q : add.unbounded)
    if (auto s = add_unbounded(q); !s) return s;
  return {};
}

Status GuardianState::add_unbounded(const guardian::QueueRef& q) {
  json j = {{"vhost", q.vhost}, {"queue", q.name}};
  if (auto s =
          store_.put({unbounded_key(q), j.dump(-1, ' ', false, json::error_handler_t::replace)});
      !s)
    return s;
  overrides_.unbounded.insert(q);
  return {};
}

Status GuardianState::remove_unbounded(const guardian::QueueRef& q) {
  if (auto s = store_.remove(unbounded_key(q)); !s) return s;
  overrides_.unbounded.erase(q);
  return {};
}

}  // namespace pulse::api
