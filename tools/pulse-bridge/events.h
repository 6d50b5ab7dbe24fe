#pragma once
// What each webhook source turns a request into: signature checks, routing keys and payloads
// (../shared/pulse-reference.md, "Other publishers"; README.md says how keys are rendered).
// Pure functions: the HTTP side is ingress.*.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace pulse::bridge {

// One message to publish: the envelope's payload and its routing key.
struct EventMessage {
  std::string routing_key;
  nlohmann::json payload;
};

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// GitHub's X-Hub-Signature-256 ("sha256=<hex>") against the body, compared in constant time.
// Error code 401: no header; 403: malformed or not matching (the text says which).
Status check_github_signature(const std::string* header, std::string_view secret,
                              std::string_view body);

// A routing-key word from free text: '.' would split it into two words and '%' is the escape,
// so they are percent-encoded (%2E, %25); an empty word is "_" (as Taskcluster writes a
// missing word).
std::string key_word(std::string_view text);
// A git ref as one word: "refs/" dropped ("refs/heads/main" -> "heads/main",
// "refs/tags/v1.0" -> "tags/v1%2E0"), then key_word.
std::string ref_word(std::string_view ref);

// A GitHub event's messages. push: github.push.<owner>.<repo>.<ref> (the event's payload as it
// came) and one github.commit.<owner>.<repo>.<ref>.<author-email> per commit (payload below);
// any other event: one github.<event>.<owner>.<repo> (owner and repo "_" for events without a
// repository, such as an organization's). Error (code 400) when the payload lacks what the key
// needs.
Result<std::vector<EventMessage>> github_messages(std::string_view event,
                                                  const nlohmann::json& payload);

// A Bugzilla push message (the Push extension's body: {"<target>": {...}, "event": {...}}).
struct BugzillaOutcome {
  // Not to be published: a private bug, comment or attachment (`why` says which).
  bool filtered = false;
  std::string why;
  EventMessage message;  // routing key <target>.<action>[:<field,...>]
};
// Error (code 400) when the body is not such a message.
Result<BugzillaOutcome> bugzilla_message(const nlohmann::json& body);

}  // namespace pulse::bridge
