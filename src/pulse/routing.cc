#include "pulse/routing.h"

#include <uuid/uuid.h>

namespace pulse {

Status check_routing_key(std::string_view key) {
  auto refuse = [&](const char* why) {
    return Error{0, "invalid routing key '" + std::string(key) + "': " + why};
  };
  if (key.empty()) return refuse("it is empty");
  if (key.size() > 255) return refuse("it is longer than 255 bytes");
  if (key.find("..") != std::string_view::npos) return refuse("it contains '..'");
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
