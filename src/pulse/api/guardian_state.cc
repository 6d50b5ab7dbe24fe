#include "pulse/api/guardian_state.h"

#include <nlohmann/json.hpp>

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

json settings_json(const GuardianOverrides& o) {
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

// The stored form is ours: anything unexpected is damage, not input.
bool read_settings(const json& j, GuardianOverrides& o) {
  if (!j.is_object()) return false;
  auto seconds = [&](const char* k, std::optional<std::chrono::seconds>& out) {
    if (!j.contains(k)) return true;
    if (!j[k].is_number_unsigned()) return false;
    out = std::chrono::seconds(j[k].get<int64_t>());
    return true;
  };
  auto count = [](const json& obj, const char* k, std::optional<uint64_t>& out) {
    if (!obj.contains(k)) return true;
    if (!obj[k].is_number_unsigned()) return false;
    out = obj[k].get<uint64_t>();
    return true;
  };
  if (!seconds("interval", o.interval) || !seconds("idle_queue_expiry", o.idle_queue_expiry) ||
      !seconds("max_connection_age", o.max_connection_age) ||
      !count(j, "warn_queue_size", o.warn_queue_size) ||
      !count(j, "delete_queue_size", o.delete_queue_size))
    return false;
  if (j.contains("owners")) {
    if (!j["owners"].is_object()) return false;
    for (const auto& [name, e] : j["owners"].items()) {
      if (!e.is_object()) return false;
      guardian::OwnerOverride ov;
      if (!count(e, "warn_queue_size", ov.warn_queue_size) ||
          !count(e, "delete_queue_size", ov.delete_queue_size))
        return false;
      o.owners[name] = ov;
    }
  }
  return true;
}

}  // namespace

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
    auto damaged = [&](const char* why) {
      return Error{500, "guardian record '" + r.key + "': " + why};
    };
    json j = json::parse(r.json, nullptr, false);
    if (r.key == kSettingsKey) {
      if (!read_settings(j, o)) return damaged("not the guardian's settings");
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
  if (auto s = store_.put({kSettingsKey, settings_json(next).dump()}); !s) return s;
  GuardianOverrides o = next;
  o.unbounded = std::move(overrides_.unbounded);
  overrides_ = std::move(o);
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
