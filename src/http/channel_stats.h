#pragma once
// Rates for connections (recv_oct, send_oct) and channels (message_stats) in the management
// API: counters are sampled with the queues' (Stats::kInterval) and a rate is the change over
// the last interval, like RabbitMQ's basic rates mode. Entries of closed sessions are dropped
// at the next sample. Runs on the event loop.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "http/connections_view.h"

namespace pulse::http {

class ChannelStats {
 public:
  void sample(const std::vector<ConnectionInfo>& conns, const std::vector<ChannelInfo>& chans,
              std::chrono::steady_clock::time_point now);
  // RabbitMQ's channel message_stats: the publisher group (publish, confirm, return_unroutable,
  // drop_unroutable) once the channel published, the consumer group (ack, deliver,
  // deliver_get, deliver_no_ack, get, get_empty, get_no_ack, redeliver) once it delivered;
  // null when neither (the field is left out then).
  nlohmann::json message_stats(const ChannelInfo& ch) const;
  double recv_rate(uint64_t conn_id) const;
  double send_rate(uint64_t conn_id) const;

  static constexpr size_t kCounts = 11;
  using Counts = std::array<uint64_t, kCounts>;
  static Counts flatten(const ChannelCounts& c);

 private:
  struct ChannelEntry {
    Counts last{};
    std::array<double, kCounts> rate{};
  };
  struct ConnEntry {
    uint64_t recv = 0, send = 0;
    double recv_rate = 0, send_rate = 0;
  };
  std::unordered_map<uint64_t, ChannelEntry> channels_;  // by ChannelInfo::key()
  std::unordered_map<uint64_t, ConnEntry> conns_;        // by connection id
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace pulse::http
