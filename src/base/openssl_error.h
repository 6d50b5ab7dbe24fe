#pragma once
// OpenSSL's error queue as text, for the modules that use OpenSSL (the client's TLS, the
// management HTTP client, the guardian's SMTP). Header-only: pulse_base does not link OpenSSL,
// its users do.
#include <openssl/err.h>

#include <string>
#include <string_view>

namespace pulse {

// The oldest queued OpenSSL error as text (`none` when the queue is empty); the queue is
// cleared for the next call.
inline std::string openssl_reason(std::string_view none = "unknown error") {
  const unsigned long e = ERR_peek_error();
  std::string why(none);
  if (e != 0) {
    const char* r = ERR_reason_error_string(e);
    why = r != nullptr ? r : "error " + std::to_string(e);
  }
  ERR_clear_error();
  return why;
}

}  // namespace pulse
