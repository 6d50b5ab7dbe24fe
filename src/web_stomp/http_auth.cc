#include "web_stomp/http_auth.h"

#include <string>

#include "auth/password.h"

namespace pulse::web_stomp {

std::optional<stomp_server::ForcedCredentials> basic_credentials(std::string_view value) {
  constexpr std::string_view kScheme = "basic ";
  if (value.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string text;
  for (char c : value.substr(kScheme.size()))
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') text += c;
  if (text.empty()) return std::nullopt;
  auto decoded = auth::base64_decode(text);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return stomp_server::ForcedCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace pulse::web_stomp
