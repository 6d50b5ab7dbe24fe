#pragma once
// Rates for connections (recv_oct, send_oct) and channels (message_stats) in the management
// API: counters are sampled with the queues' (Stats::kInterval) and a rate is the change over
// the last interval, like RabbitMQ's basic rates mode. A sample walks the connections one at a
// time in slices (chunked.h), so 10k connections do not stall message flow; each rate is over
// the time between that object's own two samples. Entries of closed sessions are dropped at the
// end of the next pass. Runs on the event loop.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/chunked.h"
#include "http/connections_view.h"

namespace pulse::http {

class ChannelStats {
 public:
  // Where a pass finds the sessions: the ids of the open connections, then each one by id
  // (nullopt once it closed) and its channels (Hooks::connection_ids and friends).
  struct Source {
    std::vector<uint64_t> ids;
    std::function<std::optional<ConnectionInfo>(uint64_t)> connection;
    std::function<std::vector<ChannelInfo>(uint64_t)> channels;
  };
  // Starts a sampling pass through `s`; `done` runs on the loop when it is over. A pass
  // already running is left to finish and `done` waits for it.
  void sample(Scheduler& s, Source source, std::function<void()> done = {});
  // RabbitMQ's channel message_stats: the publisher group (publish, confirm, return_unroutable,
  // drop_unroutable) once the channel published, the consumer group (ack, deliver,
  // deliver_get, deliver_no_ack, get, get_empty, get_no_ack, redeliver) once it delivered;
  // null when neither (the field is left out then).
  nlohmann::json message_stats(const ChannelInfo& ch) const;
  double recv_rate(uint64_t conn_id) const;
  double send_rate(uint64_t conn_id) const;
  // A vhost's recv_oct/send_oct: bytes its connections moved (closed ones up to their last
  // sample), the rate the sum of its connections' rates; nullptr before any connection was
  // sampled there (RabbitMQ leaves the fields out then).
  struct VhostOctets {
    uint64_t recv = 0, send = 0;
    double recv_rate = 0, send_rate = 0;
  };
  const VhostOctets* vhost_octets(const std::string& vhost) const;

  static constexpr size_t kCounts = 11;
  using Counts = std::array<uint64_t, kCounts>;
  static Counts flatten(const ChannelCounts& c);

 private:
  struct ChannelEntry {
    Counts last{};
    std::chrono::steady_clock::time_point at;
    uint64_t pass = 0;
    std::array<double, kCounts> rate{};
  };
  struct ConnEntry {
    uint64_t recv = 0, send = 0;
    std::chrono::steady_clock::time_point at;
    uint64_t pass = 0;
    double recv_rate = 0, send_rate = 0;
  };
  struct Pass;
  void sample_connection(uint64_t id);
  bool prune_next();

  std::unordered_map<uint64_t, ChannelEntry> channels_;  // by ChannelInfo::key()
  std::unordered_map<uint64_t, ConnEntry> conns_;        // by connection id
  std::unordered_map<std::string, VhostOctets> vhosts_;  // by name
  uint64_t passes_ = 0;
  std::shared_ptr<Pass> pass_;  // the running pass
};

}  // namespace pulse::http
