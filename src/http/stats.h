#pragma once
// Message statistics for the management API: per-queue counters (broker::QueueCounters) are
// sampled every few seconds and rates are the change between the last two samples, like
// RabbitMQ's basic rates mode. Runs on the event loop; a sample is one pass over the queues.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <unordered_map>

#include "broker/broker.h"

namespace pulse::http {

struct QueueTotals {
  uint64_t messages = 0, ready = 0, unacked = 0;
  void add(const broker::Queue& q);
  nlohmann::json to_json() const;  // messages, messages_ready, messages_unacknowledged (+details)
};

class Stats {
 public:
  static constexpr std::chrono::seconds kInterval{5};

  void sample(broker::Broker& broker, std::chrono::steady_clock::time_point now);
  // {"publish": n, "publish_details": {"rate": r}, ...}; null when the queue never saw traffic
  // (RabbitMQ leaves message_stats out then).
  nlohmann::json queue_message_stats(const broker::Queue& q) const;
  // Sums over every queue (the overview's message_stats).
  nlohmann::json global_message_stats() const;

 private:
  struct Rates {
    broker::QueueCounters last;
    double publish = 0, deliver = 0, deliver_no_ack = 0, get = 0, get_no_ack = 0, ack = 0,
           redeliver = 0;
  };
  std::unordered_map<uint64_t, Rates> rates_;  // by queue id
  broker::QueueCounters global_;               // counters of the last sample, summed
  Rates global_rates_;
  std::chrono::steady_clock::time_point last_sample_{};
};

}  // namespace pulse::http
