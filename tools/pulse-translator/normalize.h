#pragma once
// The buildbot normalizer: pulsetranslator's rules (mozilla-services/pulsetranslator, last public
// version) as a pure function. No I/O and no clock: the caller passes "now", so the normalized
// `timestamp` and `insertion_time` are reproducible (the goldens fix it).
//
// One buildbot message (the Pulse envelope from exchange/build/) gives zero or more normalized
// messages for exchange/build/normalized:
//   builds:    build.<tree>.<platform>.<buildtype>[.<tag>[.<locale> after l10n]...].<orig>
//   tests:     unittest|talos.<tree>.<platform>.<os>.<buildtype>.<test>.<product>.<orig>
//   repacks:   one build message per locale of the `locales` property.
// <orig> is the second dot-separated part of the input routing key.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pulse::translator {

struct Normalized {
  std::string routing_key;
  nlohmann::json payload;  // the flat object pulsetranslator published as the envelope's payload
  std::string log_url;     // the payload's `logurl`: published once it answers
};

enum class Outcome {
  kPublish,  // `outputs` holds the messages to publish (at least one)
  kIgnored,  // a message pulsetranslator skips on purpose (`finished`, internal builders, ...)
  kBad,      // a malformed or unknown message (pulsetranslator's bad_pulse_message.log)
  kError,    // a value of the wrong type where the rules need a string (its error.log)
};

struct NormalizeResult {
  Outcome outcome = Outcome::kIgnored;
  std::string reason;  // why nothing (or not everything) is published; empty for a plain kPublish
  std::vector<Normalized> outputs;  // a repack can fail part-way: outputs before it stay
};

std::string_view outcome_name(Outcome o);

// `message` is the whole body (`_meta` + `payload`). The routing key rules read
// `_meta.routing_key`, as pulsetranslator did; `delivery_routing_key` is used only when the
// envelope carries none. `now_epoch` is the time of receipt (seconds since the epoch, UTC).
NormalizeResult normalize(const nlohmann::json& message, std::string_view delivery_routing_key,
                          int64_t now_epoch);

}  // namespace pulse::translator
