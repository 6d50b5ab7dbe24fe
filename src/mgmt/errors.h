#pragma once
// The error codes of the management API client (pulse::Error::code). Their values are pulsectl's
// exit statuses for the same failures (tools/pulsectl/exit_codes.h takes them from here), so the
// CLI passes them through; other users map them to their own codes (pulse_admin_http:
// kUnreachable -> admin::kUnavailable).
namespace pulse::mgmt {

// No HTTP answer: refused, unresolvable, timed out, TLS handshake failed. sysexits.h's
// EX_UNAVAILABLE.
inline constexpr int kUnreachable = 69;
// Bad settings: a malformed URL, an unreadable CA / certificate / key file.
inline constexpr int kBadSettings = 2;
// A reply (or its gzip-decoded body) larger than the client's body limit, or a gzip body that
// does not decode: an answer came, but not one the caller can use. sysexits.h's EX_DATAERR.
inline constexpr int kBadReply = 65;

}  // namespace pulse::mgmt
