#pragma once
// Percent-encoding of one URL path segment (RFC 3986: unreserved characters kept), shared by
// the management API (binding properties keys, Location headers) and its client, pulsectl;
// and the HOST:PORT listener addresses of flags and config files.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pulse {

std::string percent_encode(std::string_view s);
// Its inverse, for one path segment or query component ('+' is a space only in queries, as
// `plus_is_space` says). nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);
// The value of one hex digit (either case), -1 for any other character.
int hex_digit_value(char c);

struct HostPort {
  std::string host;  // empty: a bare port; IPv6 without brackets
  uint16_t port = 0;
};

// "5672", "127.0.0.1:5672", "[::1]:5672", "::1:5672" (without brackets the last colon splits,
// as cuttlefish's ip type does). nullopt when malformed or the port is 0.
std::optional<HostPort> parse_host_port(std::string_view text);
// "127.0.0.1:5672", "[::1]:5672": the form parse_host_port reads back, used in logs and errors.
std::string format_host_port(std::string_view host, uint16_t port);
// "[::1]" -> "::1"; anything else unchanged.
std::string_view unbracket(std::string_view host);
// Whether host is an IPv4 or IPv6 address (no brackets) rather than a name: TLS sends SNI for
// names only and checks an address against the certificate's IP entries.
bool is_ip_literal(const std::string& host);

}  // namespace pulse
