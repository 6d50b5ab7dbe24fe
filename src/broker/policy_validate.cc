#include "broker/policy_validate.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>

#include "broker/erl_format.h"

namespace pulse::broker::policy_detail {
namespace {

using amqp::FieldTable;
using amqp::FieldValue;
using namespace erl;

bool int_at_least(const FieldValue& v, int64_t min) {
  auto i = v.as_int();
  return i && *i >= min;
}

bool is_one_of(const FieldValue& v, std::initializer_list<const char*> options) {
  const std::string* s = v.as_string();
  if (!s) return false;
  return std::any_of(options.begin(), options.end(), [&](const char* o) { return *s == o; });
}

// rabbit_amqqueue:check_max_age: a positive integer followed by one unit letter.
bool valid_max_age(const FieldValue& v) {
  const std::string* s = v.as_string();
  if (!s || s->size() < 2) return false;
  const std::string digits = s->substr(0, s->size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  if (std::all_of(digits.begin(), digits.end(), [](char c) { return c == '0'; })) return false;
  return std::string_view("YMDhms").find(s->back()) != std::string_view::npos;
}

// rabbit_policies:validate_policy0. Returns the error format for an invalid value, null for a
// key this validator does not own, "" when the value is fine.
const char* rabbit_policies_check(const std::string& key, const FieldValue& v) {
  struct Rule {
    const char* key;
    bool (*ok)(const FieldValue&);
    const char* error;
  };
  static const Rule kRules[] = {
      {"alternate-exchange", [](const FieldValue& x) { return x.as_string() != nullptr; },
       " is not a valid alternate exchange name"},
      {"dead-letter-exchange", [](const FieldValue& x) { return x.as_string() != nullptr; },
       " is not a valid dead letter exchange name"},
      {"dead-letter-routing-key", [](const FieldValue& x) { return x.as_string() != nullptr; },
       " is not a valid dead letter routing key"},
      {"dead-letter-strategy",
       [](const FieldValue& x) {
         return is_one_of(x, {"at-most-once", "at-least-once"});
       },
       " is not a valid dead letter strategy"},
      {"message-ttl", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid message TTL"},
      {"expires", [](const FieldValue& x) { return int_at_least(x, 1); },
       " is not a valid queue expiry"},
      {"max-length", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid maximum length"},
      {"max-length-bytes", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid maximum length in bytes"},
      // RabbitMQ's text for max-in-memory-length does say "bytes".
      {"max-in-memory-length", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid maximum memory in bytes"},
      {"max-in-memory-bytes", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid maximum memory in bytes"},
      {"queue-mode",
       [](const FieldValue& x) {
         return is_one_of(x, {"default", "lazy"});
       },
       " is not a valid queue-mode value"},
      {"queue-version",
       [](const FieldValue& x) {
         auto i = x.as_int();
         return i && (*i == 1 || *i == 2);
       },
       " is not a valid queue-version value"},
      {"overflow",
       [](const FieldValue& x) {
         return is_one_of(x, {"drop-head", "reject-publish", "reject-publish-dlx"});
       },
       " is not a valid overflow value"},
      {"delivery-limit", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid delivery limit"},
      {"max-age", valid_max_age, " is not a valid max age"},
      {"stream-max-segment-size-bytes",
       [](const FieldValue& x) {
         auto i = x.as_int();
         return i && *i >= 0 && *i <= 3000000000;
       },
       " is not a valid segment size"},
      {"queue-leader-locator",
       [](const FieldValue& x) {
         return is_one_of(x, {"client-local", "balanced", "random", "least-leaders"});
       },
       " is not a valid queue leader locator value"},
      {"initial-cluster-size", [](const FieldValue& x) { return int_at_least(x, 0); },
       " is not a valid cluster size"},
  };
  for (const Rule& r : kRules) {
    if (key == r.key) return r.ok(v) ? "" : r.error;
  }
  return nullptr;
}

bool is_ha_key(const std::string& k) {
  return k == "ha-mode" || k == "ha-params" || k == "ha-sync-mode" || k == "ha-sync-batch-size" ||
         k == "ha-promote-on-shutdown" || k == "ha-promote-on-failure";
}

// rabbit_mirror_queue_misc:validate_policy (classic mirroring: accepted, not implemented).
std::optional<std::string> check_ha(const FieldTable& def) {
  auto get = [&](const char* k) { return amqp::find(def, k); };
  const FieldValue* mode = get("ha-mode");
  if (!mode) {
    return std::string(
        "ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown");
  }
  if (!is_one_of(*mode, {"all", "exactly", "nodes"}))
    return with_term("", *mode, " is not a valid ha-mode value");
  const FieldValue* params = get("ha-params");
  const Term params_term = params ? to_term(*params) : atomic("none");
  const std::string& m = *mode->as_string();
  if (m == "all" && params) return std::string("ha-mode=\"all\" does not take parameters");
  if (m == "exactly" && !(params && int_at_least(*params, 1)))
    return with_term("ha-mode=\"exactly\" takes an integer, ", params_term, " given");
  if (m == "nodes") {
    const amqp::FieldArray* nodes = params ? params->as_array() : nullptr;
    if (!nodes) return with_term("ha-mode=\"nodes\" takes a list, ", params_term, " given");
    if (nodes->empty()) return std::string("ha-mode=\"nodes\" list must be non-empty");
    amqp::FieldArray bad;
    for (const auto& n : *nodes)
      if (!n.as_string()) bad.push_back(n);
    if (!bad.empty())
      return with_term("ha-mode=\"nodes\" takes a list of strings, ", FieldValue(bad),
                       " was not a string");
  }
  if (const FieldValue* s = get("ha-sync-mode"); s && !is_one_of(*s, {"automatic", "manual"}))
    return with_term("ha-sync-mode must be \"manual\" or \"automatic\", got ", *s);
  if (const FieldValue* b = get("ha-sync-batch-size"); b && !int_at_least(*b, 1))
    return with_term("ha-sync-batch-size takes an integer greater than 0, ", *b, " given");
  for (const char* k : {"ha-promote-on-shutdown", "ha-promote-on-failure"}) {
    const FieldValue* p = get(k);
    if (p && !is_one_of(*p, {"always", "when-synced"}))
      return with_term(std::string(k) + " must be \"always\" or \"when-synced\", got ", *p);
  }
  return std::nullopt;
}

// rabbit_policy:validation/3 for the definition.
std::optional<std::string> check_definition(const FieldTable& def) {
  if (def.empty()) return std::string("no policy provided");
  std::vector<std::string> dups;
  for (size_t i = 1; i < def.size(); ++i)
    if (def[i].first == def[i - 1].first) dups.push_back(def[i].first);
  if (!dups.empty()) {
    Term list{Term::kList, {}, {}};
    for (const auto& d : dups) list.elems.push_back(atomic(binary(d)));
    return with_term("", list, " duplicate keys not allowed");
  }
  // Each validator module sees its own keys and the first error wins; keys no module owns
  // are reported after all of them passed.
  for (const auto& [k, v] : def) {
    const char* err = rabbit_policies_check(k, v);
    if (err && *err) return with_term("", v, err);
  }
  bool has_ha =
      std::any_of(def.begin(), def.end(), [](const auto& e) { return is_ha_key(e.first); });
  if (has_ha) {
    if (auto e = check_ha(def)) return e;
  }
  if (const FieldValue* l = amqp::find(def, "queue-master-locator");
      l && !is_one_of(*l, {"client-local", "min-masters", "random"})) {
    return with_term("", *l, " invalid queue-master-locator value");
  }
  Term unknown{Term::kList, {}, {}};
  for (const auto& [k, v] : def) {
    if (rabbit_policies_check(k, v) || is_ha_key(k) || k == "queue-master-locator") continue;
    unknown.elems.push_back(pair_term(k, v));
  }
  if (!unknown.elems.empty()) return with_term("", unknown, " are not recognised policy settings");
  return std::nullopt;
}

// RE2's complaint in PCRE's words where they differ only in wording, with PCRE's offset.
std::string regex_error(const std::string& pattern, const re2::RE2& re) {
  const std::string& arg = re.error_arg();
  const size_t at = arg.empty() ? std::string::npos : pattern.find(arg);
  const size_t last = at == std::string::npos ? 0 : at + arg.size() - 1;
  std::string msg;
  size_t offset = at == std::string::npos ? 0 : at;
  switch (re.error_code()) {
    case re2::RE2::ErrorMissingParen:
      msg = "missing )", offset = pattern.size();
      break;
    case re2::RE2::ErrorUnexpectedParen:
      msg = "unmatched parentheses", offset = last;
      break;
    case re2::RE2::ErrorMissingBracket:
      msg = "missing terminating ] for character class", offset = pattern.size();
      break;
    case re2::RE2::ErrorTrailingBackslash:
      msg = "\\ at end of pattern", offset = pattern.size();
      break;
    case re2::RE2::ErrorRepeatArgument:
    case re2::RE2::ErrorRepeatOp:  // "a**": PCRE blames the second operator
      msg = "nothing to repeat", offset = last;
      break;
    case re2::RE2::ErrorRepeatSize: {
      int lo = 0, hi = 0;
      const size_t brace = arg.find('{');
      const bool out_of_order = brace != std::string::npos &&
                                std::sscanf(arg.c_str() + brace, "{%d,%d}", &lo, &hi) == 2 &&
                                hi < lo;
      msg = out_of_order ? "numbers out of order in {} quantifier"
                         : "number too big in {} quantifier";
      offset = last;
      break;
    }
    case re2::RE2::ErrorBadCharRange:
      msg = "range out of order in character class", offset = last;
      break;
    default:
      msg = re.error();
  }
  return with_term("pattern should be regular expression but is invalid: ",
                   Term{Term::kTuple, {}, {atomic(quoted(msg)), atomic(std::to_string(offset))}});
}

}  // namespace

std::vector<std::string> validate_policy(const PolicySpec& spec, const re2::RE2& compiled) {
  // rabbit_parameter_validation:proplist collects one result per field, last field first.
  std::vector<std::string> reasons;
  if (auto e = check_definition(spec.definition)) reasons.push_back(std::move(*e));
  if (!parse_apply_to(spec.apply_to)) {
    reasons.push_back("apply-to '" + spec.apply_to +
                      "' unrecognised; should be 'queues', 'exchanges' or 'all'");
  }
  if (!compiled.ok()) reasons.push_back(regex_error(spec.pattern, compiled));
  return reasons;
}

}  // namespace pulse::broker::policy_detail
