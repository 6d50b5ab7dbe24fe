#pragma once
// Percent-encoding of one URL path segment (RFC 3986: unreserved characters kept), shared by
// the management API (binding properties keys, Location headers) and its client, pulsectl.
#include <string>
#include <string_view>

namespace pulse {

std::string percent_encode(std::string_view s);

}  // namespace pulse
