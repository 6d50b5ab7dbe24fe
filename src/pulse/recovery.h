#pragma once
// What a recovering Publisher or Consumer needs to know to reconnect, and the hooks through which
// it tells the application. Both run entirely on the caller's thread (see README.md).
#include <chrono>
#include <functional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/options.h"
#include "pulse/backoff.h"
#include "pulse/endpoints.h"

namespace pulse {

struct RecoveryOptions {
  // Tried in turn, starting after the one that failed last. At least one. By default
  // mozillapulse's: pulse.mozilla.org over TLS on 5671 (pulse_service_defaults()); set the
  // user and password there, or replace the list (parse_uri_list) for any other broker.
  std::vector<client::ConnectionOptions> endpoints{pulse_service_defaults()};
  BackoffOptions backoff;
  // A connection.blocked that lasts longer than this is treated as a lost connection (another
  // node of a cluster may take our publishes). Consumers that never publish ignore blocks.
  std::chrono::milliseconds blocked_timeout{60000};
  // Hooks (may be empty). on_connected: a connection is open and the topology declared, the
  // first time. on_disconnected: the connection was lost (the error says why); recovery starts.
  // on_recovered: reconnected, re-declared, re-bound, re-consumed and unconfirmed messages
  // re-published (a Publisher sends them again right after this hook returns). `endpoint` is
  // the node in use. on_attempt_failed: a connection attempt (connect, login or topology)
  // failed; the next one follows after a back-off delay.
  std::function<void(const client::ConnectionOptions& endpoint)> on_connected;
  std::function<void(const Error& why)> on_disconnected;
  std::function<void(const client::ConnectionOptions& endpoint)> on_recovered;
  std::function<void(const client::ConnectionOptions& endpoint, const Error& why)>
      on_attempt_failed;
};

}  // namespace pulse
