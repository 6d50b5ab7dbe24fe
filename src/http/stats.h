#pragma once
// Message statistics for the management API: per-queue counters (broker::QueueCounters) are
// sampled every few seconds and rates are the change between the last two samples, like
// RabbitMQ's basic rates mode. Runs on the event loop; a sample walks the queues in slices of
// about a millisecond (chunked.h), so 100k queues do not stall message flow, and each queue's
// rate is over the time between its own two samples.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "broker/broker.h"
#include "http/chunked.h"
#include "http/history.h"

namespace pulse::http {

// How fast messages, messages_ready and messages_unacknowledged changed over the last
// sampling interval (per second; negative while a backlog drains), as RabbitMQ's
// messages_details.rate.
struct LengthRates {
  double messages = 0, ready = 0, unacked = 0;
  LengthRates& operator+=(const LengthRates& o);
};

struct QueueTotals {
  uint64_t messages = 0, ready = 0, unacked = 0;
  size_t queues = 0, consumers = 0;
  void add(const broker::Queue& q);
  // messages, messages_ready, messages_unacknowledged with their *_details.rate.
  nlohmann::json to_json(const LengthRates& rates = {}) const;
};

// Sums the queues of the vhosts `keep` accepts, walked in slices (100k queues must not stall
// the loop for the overview or the vhosts' message counts), and calls `done` on the loop with
// the totals by vhost (vhosts without queues have no entry).
void sum_queues_sliced(Scheduler& s, broker::Broker& broker, VhostWalk::Keep keep,
                       std::function<void(std::map<std::string, QueueTotals>&)> done);

class Stats {
 public:
  static constexpr std::chrono::seconds kInterval{5};

  // Starts a sampling pass through `s` and calls `done` on the loop when it is over; a pass
  // already running is left to finish (then `done` is called right away).
  void sample(Scheduler& s, broker::Broker& broker, std::function<void()> done = {});
  bool sampling() const { return pass_ != nullptr; }
  // {"publish": n, "publish_details": {"rate": r}, ...}; null when the queue never saw traffic
  // (RabbitMQ leaves message_stats out then).
  nlohmann::json queue_message_stats(const broker::Queue& q) const;
  // The overview's message_stats, from the broker's totals (broker/counters.h): they count
  // channel events (publish, confirm, unroutable) and survive deleted queues.
  nlohmann::json global_message_stats() const;
  // A vhost's message_stats (GET /api/vhosts); null before any traffic.
  nlohmann::json vhost_message_stats(const broker::VHost& vh) const;
  // An exchange's message_stats (publish_in, publish_out); null before any publish to it.
  nlohmann::json exchange_message_stats(const broker::VHost& vh, const broker::Exchange& x) const;
  // The overview's churn_rates: connections, channels and queues created and closed, from
  // broker::NodeCounters, with the rates of the last interval.
  nlohmann::json churn_rates() const;

  // Zero until the object was sampled twice.
  LengthRates queue_length_rates(const broker::Queue& q) const;
  LengthRates vhost_length_rates(const std::string& vhost) const;

  // RabbitMQ's range queries (history.h): samples, avg and avg_rate added to the *_details
  // of a queue's JSON (queue_json with stats), a vhost's (vhost_json) and the overview's
  // message_stats and queue_totals.
  void add_queue_samples(nlohmann::json& j, const broker::Queue& q, const SampleRanges& r) const;
  void add_vhost_samples(nlohmann::json& j, const std::string& vhost, const SampleRanges& r) const;
  // An exchange's (exchange_json): publish_in and publish_out, for msg_rates_age.
  void add_exchange_samples(nlohmann::json& j, const broker::VHost& vh, const std::string& name,
                            const SampleRanges& r) const;
  void add_overview_samples(nlohmann::json& message_stats, nlohmann::json& queue_totals,
                            const SampleRanges& r) const;

  // The broker::MessageCounters fields message_stats reports, in RabbitMQ's names.
  struct CounterField {
    const char* name;
    uint64_t broker::MessageCounters::*field;
  };
  static const std::array<CounterField, 11> kCounterFields;
  // The names of a queue's message_stats counters (kQueueFields), in order.
  static const std::array<const char*, 7> kQueueFieldNames;
  struct ChurnField {
    const char* name;
    uint64_t broker::NodeCounters::*field;
  };
  static const std::array<ChurnField, 7> kChurnFields;

 private:
  // The broker::QueueCounters fields, in the order of Rates::rate.
  static const std::array<uint64_t broker::QueueCounters::*, 7> kQueueFields;
  struct Rates {
    broker::QueueCounters last;
    std::chrono::steady_clock::time_point at;  // when `last` was taken
    uint64_t pass = 0;                         // the pass that took it
    std::array<double, 7> rate{};
    // messages, messages_ready, messages_unacknowledged, then kQueueFields.
    Series history{3 + 7, Series::kQueueRetentionMs};
    std::array<uint64_t, 3> last_lengths{};
    LengthRates length_rates;
  };
  // A vhost's or the node's: messages, ready, unacknowledged, then kCounterFields.
  struct TotalsHistory {
    Series series{3 + 11, Series::kTotalsRetentionMs};
    std::array<uint64_t, 3> last_lengths{};
    int64_t at_ms = 0;  // of last_lengths; 0 before the first record
    LengthRates length_rates;
    void record(int64_t now_ms, const QueueTotals& t, const broker::MessageCounters& c);
  };
  struct Pass;
  // At the end of a pass's queue walk: the vhosts' and the node's lengths (summed by the walk)
  // and message counters, as one entry each; messages, ready, unacknowledged, kCounterFields.
  void record_totals(broker::Broker& broker, std::unordered_map<std::string, QueueTotals>& lengths);
  void begin_pass(broker::Broker& broker, std::chrono::steady_clock::time_point now);
  bool sample_next_queue(broker::Broker& broker);
  bool sample_next_exchange(broker::Broker& broker);
  bool prune_next();

  struct CounterRates {
    broker::MessageCounters last;
    std::array<double, 11> rate{};
    void update(const broker::MessageCounters& now, double secs);
  };
  nlohmann::json counters_json(const broker::MessageCounters& c, const CounterRates* r) const;

  std::unordered_map<uint64_t, Rates> rates_;  // by queue id
  struct ExchangeRates {
    broker::ExchangeCounters last;
    std::chrono::steady_clock::time_point at;
    uint64_t pass = 0;
    double in = 0, out = 0;
    Series history{2, Series::kQueueRetentionMs};  // publish_in, publish_out
  };
  // By "vhost\0name", only exchanges that saw a publish.
  std::unordered_map<std::string, ExchangeRates> exchange_rates_;
  CounterRates global_;
  std::unordered_map<std::string, CounterRates> vhost_rates_;
  broker::NodeCounters node_last_{};
  std::array<double, 7> node_rates_{};
  const broker::Broker* broker_ = nullptr;  // of the last sample
  std::chrono::steady_clock::time_point last_sample_{};
  uint64_t passes_ = 0;
  std::shared_ptr<Pass> pass_;                                    // the running pass
  std::unordered_map<std::string, TotalsHistory> vhost_history_;  // by vhost name
  TotalsHistory global_history_;
};

}  // namespace pulse::http
