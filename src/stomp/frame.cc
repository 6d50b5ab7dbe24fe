#include "stomp/frame.h"

#include <array>

namespace pulse::stomp {

namespace {

constexpr std::array<std::string_view, 11> kClientCommands = {
    "CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "BEGIN",
    "COMMIT",  "ABORT", "ACK",  "NACK",      "DISCONNECT"};
constexpr std::array<std::string_view, 4> kServerCommands = {"CONNECTED", "MESSAGE", "RECEIPT",
                                                             "ERROR"};

}  // namespace

std::string_view version_name(Version v) {
  switch (v) {
    case Version::v1_0:
      return "1.0";
    case Version::v1_1:
      return "1.1";
    case Version::v1_2:
      return "1.2";
  }
  return "1.2";
}

const std::string* Frame::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name == name) return &h.value;
  return nullptr;
}

bool is_client_command(std::string_view command) {
  for (auto c : kClientCommands)
    if (c == command) return true;
  return false;
}

bool is_known_command(std::string_view command) {
  if (is_client_command(command)) return true;
  for (auto c : kServerCommands)
    if (c == command) return true;
  return false;
}

bool is_connect_command(std::string_view command) {
  return command == "CONNECT" || command == "STOMP" || command == "CONNECTED";
}

EscapeSet escape_set(Escaping mode, std::optional<Version> version, std::string_view command) {
  if (mode == Escaping::rabbitmq) return EscapeSet::v1_2;
  if (is_connect_command(command)) return EscapeSet::none;
  if (!version) return EscapeSet::v1_2;
  switch (*version) {
    case Version::v1_0:
      return EscapeSet::none;
    case Version::v1_1:
      return EscapeSet::v1_1;
    case Version::v1_2:
      return EscapeSet::v1_2;
  }
  return EscapeSet::v1_2;
}

}  // namespace pulse::stomp
