#pragma once
// Message statistics for the management API: per-queue counters (broker::QueueCounters) are
// sampled every few seconds and rates are the change between the last two samples, like
// RabbitMQ's basic rates mode. Runs on the event loop; a sample is one pass over the queues.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
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
  // The overview's message_stats, from the broker's totals (broker/counters.h): they count
  // channel events (publish, confirm, unroutable) and survive deleted queues.
  nlohmann::json global_message_stats() const;
  // A vhost's message_stats (GET /api/vhosts); null before any traffic.
  nlohmann::json vhost_message_stats(const broker::VHost& vh) const;

  // The broker::MessageCounters fields message_stats reports, in RabbitMQ's names.
  struct CounterField {
    const char* name;
    uint64_t broker::MessageCounters::*field;
  };
  static const std::array<CounterField, 11> kCounterFields;

 private:
  struct Rates {
    broker::QueueCounters last;
    double publish = 0, deliver = 0, deliver_no_ack = 0, get = 0, get_no_ack = 0, ack = 0,
           redeliver = 0;
  };
  struct CounterRates {
    broker::MessageCounters last;
    std::array<double, 11> rate{};
    void update(const broker::MessageCounters& now, double secs);
  };
  nlohmann::json counters_json(const broker::MessageCounters& c, const CounterRates* r) const;

  std::unordered_map<uint64_t, Rates> rates_;  // by queue id
  CounterRates global_;
  std::unordered_map<std::string, CounterRates> vhost_rates_;
  const broker::Broker* broker_ = nullptr;  // of the last sample
  std::chrono::steady_clock::time_point last_sample_{};
};

}  // namespace pulse::http
