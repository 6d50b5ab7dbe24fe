#pragma once
// Where a Pulse client connects: one URI or a list of them (a RabbitMQ cluster's nodes, tried
// in turn), and the Pulse service's defaults.
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/options.h"

namespace pulse {

// Splits on ',', ';' and whitespace (kombu's ';'-separated failover lists are accepted) and
// parses each part with client::parse_uri. Error when the list is empty or a part is invalid.
Result<std::vector<client::ConnectionOptions>> parse_uri_list(
    std::string_view uris, const client::ConnectionOptions& defaults = {});

// mozillapulse's defaults: host pulse.mozilla.org, vhost "/", TLS on port 5671. They belong to
// the Pulse layer only; the plain client (and pulse-perf) defaults to 127.0.0.1:5672.
client::ConnectionOptions pulse_service_defaults();

}  // namespace pulse
