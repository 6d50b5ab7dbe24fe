#include "events.h"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace pulse::bridge {
namespace {

using nlohmann::json;

std::string str_at(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

bool is_private(const json& j) {
  if (!j.is_object()) return false;
  auto it = j.find("is_private");
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  // A value we do not understand is treated as private: publishing is the mistake that
  // cannot be undone.
  return !it->is_null();
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

Status check_github_signature(const std::string* header, std::string_view secret,
                              std::string_view body) {
  if (!header || header->empty())
    return Error{401, "missing X-Hub-Signature-256 header (set the webhook's secret)"};
  constexpr std::string_view kPrefix = "sha256=";
  std::string given = *header;
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string expected = hmac_sha256_hex(secret, body);
  if (!given.starts_with(kPrefix) || given.size() != kPrefix.size() + expected.size())
    return Error{403, "malformed X-Hub-Signature-256 header (expected sha256=<64 hex digits>)"};
  if (CRYPTO_memcmp(given.data() + kPrefix.size(), expected.data(), expected.size()) != 0)
    return Error{403, "X-Hub-Signature-256 does not match the body and the hook's secret"};
  return {};
}

std::string key_word(std::string_view text) {
  if (text.empty()) return "_";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '.') {
      out += "%2E";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ref_word(std::string_view ref) {
  if (ref.starts_with("refs/")) ref.remove_prefix(5);
  return key_word(ref);
}

Result<std::vector<EventMessage>> github_messages(std::string_view event, const json& payload) {
  if (!payload.is_object()) return Error{400, "the payload is not a JSON object"};
  if (event.empty()) return Error{400, "missing X-GitHub-Event header"};
  for (char c : event) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return Error{400, "X-GitHub-Event '" + std::string(event) + "' is not an event name"};
  }
  const json* repo = nullptr;
  if (auto it = payload.find("repository"); it != payload.end() && it->is_object()) repo = &*it;
  std::string owner, name;
  if (repo) {
    name = str_at(*repo, "name");
    if (auto o = repo->find("owner"); o != repo->end()) {
      owner = str_at(*o, "login");
      if (owner.empty()) owner = str_at(*o, "name");  // push payloads carry both
    }
  }
  std::vector<EventMessage> out;
  if (event != "push") {
    out.push_back(
        {"github." + std::string(event) + "." + key_word(owner) + "." + key_word(name), payload});
    return out;
  }
  if (owner.empty() || name.empty())
    return Error{400, "push event without repository.owner and repository.name"};
  const std::string ref = str_at(payload, "ref");
  if (ref.empty()) return Error{400, "push event without a ref"};
  const std::string stem = key_word(owner) + "." + key_word(name) + "." + ref_word(ref);
  out.push_back({"github.push." + stem, payload});
  auto commits = payload.find("commits");
  if (commits != payload.end() && commits->is_array()) {
    for (const json& c : *commits) {
      if (!c.is_object()) continue;
      std::string email;
      if (auto a = c.find("author"); a != c.end()) email = str_at(*a, "email");
      json p = {{"owner", owner},
                {"repo", name},
                {"ref", ref},
                {"commit", c},
                {"pusher", payload.value("pusher", json())},
                {"repository_url", repo ? str_at(*repo, "html_url") : ""}};
      out.push_back({"github.commit." + stem + "." + key_word(email), std::move(p)});
    }
  }
  return out;
}

Result<BugzillaOutcome> bugzilla_message(const json& body) {
  if (!body.is_object()) return Error{400, "the body is not a JSON object"};
  auto ev = body.find("event");
  if (ev == body.end() || !ev->is_object()) return Error{400, "no \"event\" object"};
  const std::string target = str_at(*ev, "target");
  const std::string action = str_at(*ev, "action");
  if (target.empty() || action.empty())
    return Error{400, "event.target and event.action must be non-empty strings"};
  for (const std::string* w : {&target, &action}) {
    if (w->find('.') != std::string::npos || w->find(':') != std::string::npos)
      return Error{400, "event.target and event.action may not hold '.' or ':'"};
  }
  auto obj = body.find(target);
  if (obj == body.end() || !obj->is_object())
    return Error{400, "no \"" + target + "\" object (the event's target)"};
  BugzillaOutcome out;
  // The target itself (a private comment or attachment), and the objects it belongs to (a
  // comment's bug, a flag's attachment and bug).
  if (is_private(*obj)) {
    out.filtered = true;
    out.why = "private " + target;
  } else {
    for (const char* parent : {"bug", "attachment", "comment"}) {
      auto p = obj->find(parent);
      if (p != obj->end() && is_private(*p)) {
        out.filtered = true;
        out.why = "private " + std::string(parent);
        break;
      }
    }
  }
  std::string key = target + "." + action;
  std::string fields;
  if (auto ch = ev->find("changes"); ch != ev->end() && ch->is_array()) {
    for (const json& c : *ch) {
      std::string f = str_at(c, "field");
      if (f.empty()) continue;
      fields += (fields.empty() ? "" : ",") + f;
    }
  }
  if (!fields.empty()) key += ":" + fields;
  if (key.size() > 255) key = key.substr(0, 255);
  out.message.routing_key = key;
  out.message.payload = body;
  out.message.payload["event"]["routing_key"] = key;
  return out;
}

}  // namespace pulse::bridge
