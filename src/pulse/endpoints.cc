#include "pulse/endpoints.h"

#include <string>

namespace pulse {

Result<std::vector<client::ConnectionOptions>> parse_uri_list(
    std::string_view uris, const client::ConnectionOptions& defaults) {
  std::vector<client::ConnectionOptions> out;
  constexpr std::string_view kSeparators = ",; \t\r\n";
  size_t pos = 0;
  while (pos < uris.size()) {
    size_t start = uris.find_first_not_of(kSeparators, pos);
    if (start == std::string_view::npos) break;
    size_t end = uris.find_first_of(kSeparators, start);
    if (end == std::string_view::npos) end = uris.size();
    const std::string_view part = uris.substr(start, end - start);
    // No scheme: a host as mozillapulse takes it, so TLS (and 5671 unless a port is given).
    auto o = part.find("://") == std::string_view::npos
                 ? client::parse_uri("amqps://" + std::string(part), defaults)
                 : client::parse_uri(part, defaults);
    if (!o) return std::move(o).error();
    out.push_back(std::move(*o));
    pos = end;
  }
  if (out.empty()) return Error{0, "no AMQP URI given"};
  return out;
}

client::ConnectionOptions pulse_service_defaults() {
  client::ConnectionOptions o;
  o.host = "pulse.mozilla.org";
  o.port = 5671;
  o.vhost = "/";
  o.tls = true;
  return o;
}

}  // namespace pulse
