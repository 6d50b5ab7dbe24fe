#pragma once
// Where a Pulse client connects: one URI or a list of them (a RabbitMQ cluster's nodes, tried
// in turn), and the Pulse service's defaults.
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/options.h"

namespace pulse {

// Splits on ',', ';' and whitespace (kombu's ';'-separated failover lists are accepted) and
// parses each part with client::parse_uri. A part without a scheme
// (`[user[:password]@]host[:port][/vhost][?query]`) is read as amqps://: TLS on port 5671
// unless it names a port, as mozillapulse's host= does with its ssl=True default; amqp:// and
// amqps:// parts mean what they say. Error when the list is empty or a part is invalid.
Result<std::vector<client::ConnectionOptions>> parse_uri_list(
    std::string_view uris, const client::ConnectionOptions& defaults = {});

// mozillapulse's defaults: host pulse.mozilla.org, vhost "/", TLS on port 5671 (system CAs,
// host name verified). The endpoint of a RecoveryOptions nobody filled in (so of a Publisher or
// Consumer built with default options), as a PulsePublisher() or PulseConsumer() without
// host/port/ssl connects there. They belong to the Pulse layer only; the plain client (and
// pulse-perf) defaults to 127.0.0.1:5672, and the tools' --uri to the local broker.
client::ConnectionOptions pulse_service_defaults();

}  // namespace pulse
