// The kind-specific half of pulsetranslator's rules: unit tests and talos from the routing key,
// builds with their tags, l10n repacks split per locale, and the routing keys they go out with.
#include <re2/re2.h>

#include <algorithm>

#include "normalize_internal.h"
#include "normalize_params.h"

namespace pulse::translator::detail {

using nlohmann::json;

namespace {

bool has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string text_of(const json& v) {
  return v.is_string() ? v.get<std::string>() : std::string();
}

struct Kinds {
  Scanned& s;
  NormalizeResult r;

  NormalizeResult done(Outcome o, std::string why) {
    r.outcome = o;
    r.reason = std::move(why);
    return std::move(r);
  }

  std::string orig() const {
    auto first = s.key.find('.');
    if (first == std::string::npos) return {};
    auto second = s.key.find('.', first + 1);
    return s.key.substr(first + 1,
                        second == std::string::npos ? std::string::npos : second - first - 1);
  }

  // Appends the message when it has a log URL to wait for: without one pulsetranslator's log
  // handler dropped it silently. An error text when the routing key cannot be built.
  std::optional<std::string> emit(json data, std::vector<std::string> parts) {
    if (!truthy(data["logurl"])) {
      r.reason = "no log_url to wait for";
      return std::nullopt;
    }
    if (!data["logurl"].is_string()) return "property 'log_url' is not a string";
    std::string key;
    for (const auto& p : parts) {
      if (p.empty()) return "the normalized routing key would have an empty part";
      key += key.empty() ? p : "." + p;
    }
    Normalized n;
    n.routing_key = std::move(key);
    n.log_url = data["logurl"].get<std::string>();
    n.payload = std::move(data);
    r.outputs.push_back(std::move(n));
    return std::nullopt;
  }

  NormalizeResult test(const re2::StringPiece* g) {
    json& d = s.data;
    if (g[7] == "finished") return done(Outcome::kIgnored, "a test's 'finished' message");
    std::string os(g[2].data(), g[2].size());
    const json& builder = d["buildername"];
    if (!builder.is_string()) {
      return done(Outcome::kError, "property 'buildername' is not a string");
    }
    if (auto c = convert_os(os, builder.get_ref<const std::string&>())) os = *c;
    d["os"] = os;
    d["test"] = std::string(g[5].data(), g[5].size());
    d["talos"] = has(builder.get_ref<const std::string&>(), "talos");
    if (s.stage_platform && !s.stage_platform->empty()) d["platform"] = *s.stage_platform;
    d["insertion_time"] = s.now;
    std::string platform = text_of(d["platform"]);
    if (d["platform"].is_string() && ignored_platform(platform)) {
      return done(Outcome::kIgnored, "ignored platform " + platform);
    }
    if (!truthy(d["logurl"])) return done(Outcome::kBad, "a test without a log_url");
    const PlatformEntry* known = d["platform"].is_string() ? find_platform(platform) : nullptr;
    if (!known) return done(Outcome::kBad, "unknown platform '" + platform + "'");
    if (std::find(known->oses.begin(), known->oses.end(), os) == known->oses.end()) {
      return done(Outcome::kBad, "OS '" + os + "' is not one of platform " + platform + "'s");
    }
    std::string test = d["test"].get<std::string>();
    if (test.empty()) return done(Outcome::kError, "a test job without a test name");
    std::string product = truthy(d["product"]) ? text_of(d["product"]) : "unknown";
    std::vector<std::string> parts = {d["talos"].get<bool>() ? "talos" : "unittest",
                                      s.tree,
                                      platform,
                                      os,
                                      d["buildtype"].get<std::string>(),
                                      test,
                                      product,
                                      orig()};
    if (auto err = emit(d, std::move(parts))) return done(Outcome::kError, *err);
    return done(r.outputs.empty() ? Outcome::kIgnored : Outcome::kPublish, r.reason);
  }

  // process_build: one build (or one locale of a repack). An outcome when it stops the message.
  std::optional<NormalizeResult> one_build(json d) {
    std::string platform = text_of(d["platform"]);
    if (ignored_platform(platform)) {
      r.reason = "ignored platform " + platform;
      return std::nullopt;
    }
    if (!find_platform(platform)) return done(Outcome::kBad, "unknown platform '" + platform + "'");
    for (const auto& tag : d["tags"]) {
      if (!known_tag(tag.get<std::string>())) {
        return done(Outcome::kBad, "unknown build tag '" + tag.get<std::string>() + "'");
      }
    }
    if (!truthy(d["buildurl"]) && !truthy(d["repack"])) {
      return done(Outcome::kBad, "a build without a build URL");
    }
    std::vector<std::string> parts = {"build", s.tree, platform, d["buildtype"].get<std::string>()};
    for (const auto& t : d["tags"]) {
      std::string tag = t.get<std::string>();
      if (!tag.empty()) parts.push_back(tag);
      if (tag == "l10n") {
        if (!d["locale"].is_string()) return done(Outcome::kError, "'locale' is not a string");
        parts.push_back(d["locale"].get<std::string>());
      }
    }
    parts.push_back(orig());
    if (auto err = emit(std::move(d), std::move(parts))) return done(Outcome::kError, *err);
    return std::nullopt;
  }

  NormalizeResult build() {
    json& d = s.data;
    const std::string& key = s.key;
    if (has(key, "source")) return done(Outcome::kIgnored, "a source builder");
    for (auto word : {"schedulers", "tag", "submitter", "final_verification", "fuzzer"}) {
      if (has(key, word)) return done(Outcome::kIgnored, "an internal builder");
    }
    if (has(key, "jetpack")) return done(Outcome::kIgnored, "a jetpack builder");
    if (!truthy(d["platform"])) {
      if (s.stage_platform && !s.stage_platform->empty()) {
        d["platform"] = *s.stage_platform;
      } else if (auto guess = guess_platform(key)) {
        d["platform"] = *guess;
      } else {
        return done(Outcome::kBad, "no 'platform' property");
      }
    }
    std::string platform = d["platform"].get<std::string>();
    RE2 other("^build\\.((release-|jetpack-|b2g_)?(" + s.tree + ")[-|_](xulrunner[-|_])?(" +
              platform + ")([-|_]?)(.*?))\\.(\\d+)\\.(log_uploaded|finished)");
    if (!other.ok()) return done(Outcome::kError, "branch or platform is not a valid pattern");
    re2::StringPiece g[9];
    RE2::Arg args[9];
    const RE2::Arg* argp[9];
    for (int i = 0; i < 9; ++i) {
      args[i] = &g[i];
      argp[i] = &args[i];
    }
    if (!RE2::PartialMatchN(key, other, argp, 9)) {
      return done(Outcome::kBad, "unknown message type, platform: " + platform);
    }
    if (has(std::string_view(g[8].data(), g[8].size()), "finished")) {
      return done(Outcome::kIgnored, "a build's 'finished' message");
    }
    json tags = json::array();
    std::string rest(g[6].data(), g[6].size());
    for (auto& c : rest) c = c == '_' ? '-' : c;
    for (size_t at = 0;;) {
      auto dash = rest.find('-', at);
      std::string t = rest.substr(at, dash == std::string::npos ? std::string::npos : dash - at);
      bool digits = !t.empty() && t.find_first_not_of("0123456789") == std::string::npos;
      if (t != "debug" && t != "pgo" && t != "opt" && t != "repack" && !digits) tags.push_back(t);
      if (dash == std::string::npos) break;
      at = dash + 1;
    }
    std::string_view prefix(g[1].data() ? g[1].data() : "", g[1].size());
    if (has(prefix, "release")) tags.push_back("release");
    if (has(prefix, "jetpack")) tags.push_back("jetpack");
    d["tags"] = tags;
    bool xul_tag = std::find(tags.begin(), tags.end(), json("xulrunner")) != tags.end();
    if (!g[3].empty() || xul_tag) d["product"] = "xulrunner";
    // The emulator build URL was never published; pulsetranslator guessed it (bug 1071642).
    if (has(platform, "emulator") && !has(key, "try") && truthy(d["buildid"])) {
      d["buildurl"] = "https://pvtbuilds.mozilla.org/pub/mozilla.org/b2g/tinderbox-builds/" +
                      s.tree + "-" + platform + "/" + d["buildid"].get<std::string>() +
                      "/emulator.tar.gz";
    }
    if (!has(key, "repack")) {
      if (auto stop = one_build(d)) return std::move(*stop);
      return done(r.outputs.empty() ? Outcome::kIgnored : Outcome::kPublish, r.reason);
    }
    // A repack announces several locales at once: one message per locale (bug 857971).
    d["repack"] = true;
    if (!truthy(d["locales"])) return done(Outcome::kBad, "a repack without a 'locales' property");
    if (!d["locales"].is_string()) return done(Outcome::kError, "'locales' is not a string");
    std::string locales = d["locales"].get<std::string>();
    for (size_t at = 0;;) {
      auto comma = locales.find(',', at);
      std::string loc =
          locales.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (loc.empty()) return done(Outcome::kBad, "an empty locale in '" + locales + "'");
      json one = d;
      one["locale"] = loc;
      if (auto stop = one_build(std::move(one))) return std::move(*stop);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    return done(r.outputs.empty() ? Outcome::kIgnored : Outcome::kPublish, r.reason);
  }
};

}  // namespace

NormalizeResult normalize_kinds(Scanned& s) {
  Kinds k{s, {}};
  RE2 unittest("^build\\.((" + s.tree +
               ")[-|_](.*?)(-debug|-o-debug|-pgo|_pgo|_test)?[-|_](test|unittest|pgo)-(.*?))"
               "\\.(\\d+)\\.(log_uploaded|finished)");
  if (!unittest.ok()) return k.done(Outcome::kError, "branch is not a valid pattern");
  re2::StringPiece g[8];
  RE2::Arg args[8];
  const RE2::Arg* argp[8];
  for (int i = 0; i < 8; ++i) {
    args[i] = &g[i];
    argp[i] = &args[i];
  }
  if (RE2::PartialMatchN(s.key, unittest, argp, 8)) return k.test(g);
  return k.build();
}

}  // namespace pulse::translator::detail
