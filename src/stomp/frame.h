#pragma once
// A STOMP frame as it travels: command, headers in wire order (duplicates kept; STOMP says the
// first occurrence wins, which `header()` honours) and body bytes (may contain NULs).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::stomp {

enum class Version { v1_0, v1_1, v1_2 };

// "1.0", "1.1", "1.2".
std::string_view version_name(Version v);

struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header&) const = default;
};

struct Frame {
  std::string command;
  std::vector<Header> headers;
  std::string body;

  // The first header called `name`, or nullptr.
  const std::string* header(std::string_view name) const;
  void add(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
  }
  bool operator==(const Frame&) const = default;
};

// The commands of STOMP 1.0-1.2, client's and server's.
bool is_known_command(std::string_view command);
bool is_client_command(std::string_view command);

// CONNECT, STOMP and CONNECTED headers are never escaped (STOMP 1.2, "Value Encoding").
bool is_connect_command(std::string_view command);

// How header names and values are escaped.
// - spec: per negotiated version (1.0 none; 1.1 \n \c \\; 1.2 also \r), none on CONNECT,
//   STOMP and CONNECTED; before a version is known, 1.2's rules.
// - rabbitmq: as RabbitMQ 3.10 does, \r \n \c \\ on every frame of every version.
enum class Escaping { spec, rabbitmq };

// Which escape codes apply to a frame.
enum class EscapeSet { none, v1_1, v1_2 };
EscapeSet escape_set(Escaping mode, std::optional<Version> version, std::string_view command);

}  // namespace pulse::stomp
