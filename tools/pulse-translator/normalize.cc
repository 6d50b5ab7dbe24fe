#include "normalize.h"

#include <ctime>

#include "normalize_internal.h"
#include "normalize_params.h"

namespace pulse::translator {

using nlohmann::json;

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPublish:
      return "publish";
    case Outcome::kIgnored:
      return "ignored";
    case Outcome::kBad:
      return "bad";
    case Outcome::kError:
      return "error";
  }
  return "?";
}

namespace detail {

bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_number_unsigned()) return v.get<uint64_t>() != 0;
  if (v.is_number_float()) return v.get<double>() != 0.0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

}  // namespace detail

namespace {

NormalizeResult stop(Outcome o, std::string why) {
  NormalizeResult r;
  r.outcome = o;
  r.reason = std::move(why);
  return r;
}

std::string utc_text(int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The fields every normalized message carries, null until a property fills them.
json blank(const std::string& key, int64_t now) {
  json b = json::object();
  for (const char* f :
       {"job_number", "buildid",   "build_number",      "previous_buildid", "status",
        "platform",   "builddate", "buildurl",          "locale",           "locales",
        "logurl",     "testsurl",  "test_packages_url", "release",          "buildername",
        "slave",      "repack",    "revision",          "product",          "version",
        "tree"}) {
    b[f] = nullptr;
  }
  b["key"] = key;
  b["timestamp"] = utc_text(now);
  return b;
}

// Properties copied as they are, by buildbot name.
const char* plain_field(const std::string& name) {
  static const std::pair<const char*, const char*> kPlain[] = {
      {"buildnumber", "job_number"},
      {"revision", "revision"},
      {"version", "version"},
      {"build_number", "build_number"},
      {"previous_buildid", "previous_buildid"},
      {"locale", "locale"},
      {"locales", "locales"},
      {"packageUrl", "buildurl"},
      {"build_url", "buildurl"},
      {"fileURL", "buildurl"},
      {"log_url", "logurl"},
      {"en_revision", "release"},
      {"script_repo_revision", "release"},
      {"testsUrl", "testsurl"},
      {"testPackagesUrl", "test_packages_url"},
      {"buildername", "buildername"},
      {"slavename", "slave"},
      {"completeMarUrl", "completemarurl"},
      {"completeMarHash", "completemarhash"},
  };
  for (const auto& [from, to] : kPlain) {
    if (name == from) return to;
  }
  return nullptr;
}

// One [name, value, source] property into `s`; an error text when its value has a type the
// rules cannot use (pulsetranslator raised and logged the message to error.log).
std::optional<std::string> scan_property(const json& prop, detail::Scanned& s) {
  if (!prop.is_array() || prop.size() < 2) return "a property is not a [name, value, source] list";
  if (!prop[0].is_string()) return std::nullopt;
  const auto& name = prop[0].get_ref<const std::string&>();
  const json& v = prop[1];
  json& d = s.data;
  if (const char* field = plain_field(name)) {
    d[field] = v;
  } else if (name == "product") {
    if (!v.is_string()) return "property 'product' is not a string";
    std::string p = v.get<std::string>();
    for (auto& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    d["product"] = p;
  } else if (name == "branch") {
    if (v.is_string()) {
      const auto& b = v.get_ref<const std::string&>();
      auto slash = b.rfind('/');
      d["tree"] = slash == std::string::npos ? b : b.substr(slash + 1);
    } else {
      d["tree"] = v;
    }
  } else if (name == "buildid") {
    if (!v.is_string()) return "property 'buildid' is not a string";
    auto epoch = buildid_epoch(v.get_ref<const std::string&>());
    if (!epoch) return "property 'buildid' is not a YYYYMMDDhhmmss date";
    d["buildid"] = v;
    d["builddate"] = *epoch;
  } else if (name == "platform") {
    d["platform"] = v;
    if (detail::truthy(v)) {
      if (!v.is_string()) return "property 'platform' is not a string";
      const auto& p = v.get_ref<const std::string&>();
      auto at = p.find("-debug");
      if (at != std::string::npos) d["platform"] = p.substr(0, at);
    }
  } else if (name == "blobber_files") {
    if (!v.is_string()) return "property 'blobber_files' is not a string";
    json parsed = json::parse(v.get_ref<const std::string&>(), nullptr, false);
    if (!parsed.is_discarded()) d["blobber_files"] = std::move(parsed);
  } else if (name == "stage_platform") {
    if (!v.is_string()) return "property 'stage_platform' is not a string";
    s.stage_platform = strip_buildtype(v.get<std::string>());
  }
  return std::nullopt;
}

}  // namespace

NormalizeResult normalize(const json& message, std::string_view delivery_routing_key,
                          int64_t now_epoch) {
  if (!message.is_object()) return stop(Outcome::kBad, "the body is not a JSON object");
  detail::Scanned s;
  s.now = now_epoch;
  auto meta = message.find("_meta");
  if (meta != message.end() && meta->is_object() && meta->contains("routing_key") &&
      (*meta)["routing_key"].is_string()) {
    s.key = (*meta)["routing_key"].get<std::string>();
  } else {
    s.key = std::string(delivery_routing_key);
  }
  if (s.key.empty()) return stop(Outcome::kBad, "no routing key");
  const json* build = nullptr;
  if (auto p = message.find("payload"); p != message.end() && p->is_object()) {
    if (auto b = p->find("build"); b != p->end() && b->is_object()) build = &*b;
  }
  if (!build || !build->contains("properties") || !(*build)["properties"].is_array()) {
    return stop(Outcome::kBad, "no payload.build.properties list");
  }
  s.data = blank(s.key, now_epoch);
  for (const auto& prop : (*build)["properties"]) {
    if (auto err = scan_property(prop, s)) return stop(Outcome::kError, *err);
  }
  const json& tree = s.data["tree"];
  if (!detail::truthy(tree)) return stop(Outcome::kBad, "no 'branch' property");
  if (!tree.is_string()) return stop(Outcome::kError, "property 'branch' is not a string");
  s.tree = tree.get<std::string>();
  if (!detail::truthy(s.data["locale"])) s.data["locale"] = "en-US";
  if (!build->contains("results")) return stop(Outcome::kError, "no payload.build.results");
  s.data["status"] = (*build)["results"];
  if (s.key.find("debug") != std::string::npos) {
    s.data["buildtype"] = "debug";
  } else if (s.key.find("pgo") != std::string::npos) {
    s.data["buildtype"] = "pgo";
  } else {
    s.data["buildtype"] = "opt";
  }
  return detail::normalize_kinds(s);
}

}  // namespace pulse::translator
