#include "pulse/routing.h"

#include <uuid/uuid.h>

#include <cstdint>

namespace pulse {

namespace {

// Well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF).
bool utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

Status check_routing_key(std::string_view key) {
  auto refuse = [&](const char* why) {
    return Error{0, "invalid routing key '" + std::string(key) + "': " + why};
  };
  if (key.empty()) return refuse("it is empty");
  if (key.size() > 255) return refuse("it is longer than 255 bytes");
  if (key.find("..") != std::string_view::npos) return refuse("it contains '..'");
  // The key is also the envelope's _meta.routing_key, a JSON string: other bytes would travel
  // as one key and be read back as another.
  if (!utf8(key)) return refuse("it is not UTF-8");
  return {};
}

std::vector<std::string> cc_routes(const std::vector<std::string>& routes) {
  std::vector<std::string> out;
  out.reserve(routes.size());
  for (const auto& r : routes) out.push_back("route." + r);
  return out;
}

bool valid_user_name(std::string_view user) {
  if (user.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(user.front())) return false;
  for (char c : user) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string uuid4() {
  uuid_t id;
  uuid_generate_random(id);
  char text[37];
  uuid_unparse_lower(id, text);
  return text;
}

std::string consumer_queue_name(std::string_view user, std::string_view applabel) {
  std::string name = "queue/";
  name += user;
  name += '/';
  if (applabel.empty()) {
    name += uuid4();
  } else {
    name += applabel;
  }
  return name;
}

}  // namespace pulse
