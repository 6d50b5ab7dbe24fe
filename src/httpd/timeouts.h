#pragma once
// How long an HTTP listener waits for a client, as cowboy (RabbitMQ's HTTP server) counts it,
// set per listener by management.tcp.*, management.ssl.*, prometheus.tcp.*, prometheus.ssl.*
// (request_timeout, idle_timeout; milliseconds). Light: app/config.h includes it.
#include <chrono>
#include <string_view>

namespace pulse::httpd {

struct Timeouts {
  // A connection's first request line and headers must have arrived within this of its start
  // (after a TLS handshake), however slowly they trickle in: each byte does not extend it.
  // Cut within the headers, the client gets a 408; before its request line, just the close.
  std::chrono::milliseconds request{5000};
  // A later request's headers must arrive within this of the previous answer, and a request's
  // body within this of its headers (cowboy restarts it with every piece of body, so a body
  // trickled in keeps a connection forever; pulsed counts from the headers). Also bounds the
  // writing of an answer.
  std::chrono::milliseconds idle{60000};
  bool operator==(const Timeouts&) const = default;
};

// Whether `buffered`, the start of a request, holds a whole request line (cowboy skips empty
// lines before it): a client cut off after it gets a 408, one cut off before it a bare close.
inline bool request_line_received(std::string_view buffered) {
  size_t start = buffered.find_first_not_of("\r\n");
  return start != std::string_view::npos && buffered.find('\n', start) != std::string_view::npos;
}

}  // namespace pulse::httpd
