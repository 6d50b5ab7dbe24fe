#include "pulse/admin/naming.h"

namespace pulse::admin {
namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<std::string> owner_of_queue(std::string_view queue) {
  constexpr std::string_view kPrefix = "queue/";
  if (!queue.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = queue.substr(kPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::string(rest.substr(0, slash));
}

Status check_user_name(std::string_view user) {
  auto refuse = [&](const std::string& why) {
    return Error{0, "invalid Pulse user name '" + std::string(user) + "': " + why};
  };
  if (user.empty()) return Error{0, "invalid Pulse user name: it is empty"};
  if (!is_letter(user.front())) return refuse("it must start with a letter");
  for (char c : user) {
    if (!is_letter(c) && !is_digit(c) && c != '.' && c != '_' && c != '-') {
      return refuse("it may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return {};
}

Status check_password(std::string_view password) {
  if (password.size() < 6) return Error{0, "invalid password: it must have at least 6 characters"};
  bool letter = false;
  bool digit = false;
  for (char c : password) {
    letter = letter || is_letter(c);
    digit = digit || is_digit(c);
  }
  if (!letter) return Error{0, "invalid password: it must contain a letter"};
  if (!digit) return Error{0, "invalid password: it must contain a digit"};
  return {};
}

std::string regex_escape(std::string_view text) {
  // '-' is special only inside a class, so it stays as is and "a.b-c" reads as "a\.b-c".
  constexpr std::string_view kSpecial = "\\^$.|?*+()[]{}";
  std::string out;
  out.reserve(text.size() * 2);
  for (char c : text) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

Permissions pulse_user_permissions(std::string_view user) {
  return pulse_namespace_permissions(user);
}

Permissions pulse_namespace_permissions(std::string_view ns) {
  const std::string u = regex_escape(ns);
  const std::string own = "^(queue/" + u + "/.*|exchange/" + u + "/.*)";
  return Permissions{own, own, "^(queue/" + u + "/.*|exchange/.*)"};
}

std::vector<std::string> namespace_tags(std::string_view ns) {
  return {"pulse-namespace:" + std::string(ns)};
}

}  // namespace pulse::admin
