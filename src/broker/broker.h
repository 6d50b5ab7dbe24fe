#pragma once
// The root of all broker state. Nothing in the broker is global: a test can run several
// Brokers in one process. Everything here runs on the single event-loop thread that owns it.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "broker/definitions_observer.h"
#include "broker/durability.h"
#include "broker/global_parameters.h"
#include "broker/message.h"
#include "broker/queue_store.h"
#include "broker/vhost.h"

namespace pulse::broker {

// A consumer of `amq.rabbitmq.reply-to`: replies published to its token go straight to it.
class DirectReplySink {
 public:
  virtual ~DirectReplySink() = default;
  virtual void deliver_reply(MessagePtr msg) = 0;
};

class Broker {
 public:
  Broker();
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  VHost* find_vhost(const std::string& name);
  VHost& add_vhost(const std::string& name);
  bool delete_vhost(const std::string& name);
  const std::map<std::string, std::unique_ptr<VHost>>& vhosts() const { return vhosts_; }

  // Not owned; null (the default) means nobody listens. See definitions_observer.h.
  void set_definitions_observer(DefinitionsObserver* o) { observer_ = o; }
  DefinitionsObserver* definitions_observer() const { return observer_; }

  // Global runtime parameters (cluster_name, internal_cluster_id, ...). Changes go through
  // set/clear_global_parameter so the definitions observer hears of them.
  const GlobalParameters& global_parameters() const { return global_parameters_; }
  GlobalParameters& global_parameters() { return global_parameters_; }
  // Validates (GlobalParameters::validate), stores, notifies; true when created.
  Result<bool> set_global_parameter(const std::string& name, std::string value_json);
  bool clear_global_parameter(const std::string& name);

  // Message storage (see queue_store.h); null means memory only. Not owned.
  void set_message_storage(MessageStorage* s) { storage_ = s; }
  MessageStorage* message_storage() const { return storage_; }
  Durability& durability() { return durability_; }
  void set_paging_limits(PagingLimits l) { paging_ = l; }
  const PagingLimits& paging_limits() const { return paging_; }
  // Bytes of ready messages held in memory by all queues (for the global paging budget).
  uint64_t queued_memory() const { return queued_memory_; }
  void add_queued_memory(int64_t delta) { queued_memory_ += static_cast<uint64_t>(delta); }
  // True while the broker is being destroyed: queues go away in memory only, their stored
  // messages stay for the next start.
  bool closing() const { return closing_; }

  uint64_t next_id() { return ++last_id_; }
  // RabbitMQ-style generated names: prefix + 22 url-safe base64 characters.
  std::string generate_name(const char* prefix);

  // Timers: queues ask to be woken at a deadline (TTL, x-expires). The server arms one OS
  // timer for the earliest deadline through the hook.
  void schedule(Queue& q, TimePoint when);
  void run_timers(TimePoint now);
  std::optional<TimePoint> next_timer() const;
  void set_timer_hook(std::function<void(TimePoint)> hook) { timer_hook_ = std::move(hook); }
  // Called before a vhost is deleted (from any path: management API, definitions), so the
  // protocol sessions on it are closed before their vhost goes away, as RabbitMQ does.
  void set_vhost_deleting_hook(std::function<void(const std::string&)> hook) {
    vhost_deleting_hook_ = std::move(hook);
  }

  // Direct reply-to.
  std::string register_reply_sink(DirectReplySink* sink);
  void unregister_reply_sink(const std::string& token);
  DirectReplySink* find_reply_sink(const std::string& token);

  // The connection closed: drop its exclusive queues everywhere.
  void connection_closed(uint64_t connection_id);

  // Totals since start (counters.h): message events of every vhost, and lifecycle events.
  MessageCounters& message_counters() { return message_counters_; }
  const MessageCounters& message_counters() const { return message_counters_; }
  NodeCounters& node_counters() { return node_counters_; }
  const NodeCounters& node_counters() const { return node_counters_; }

 private:
  struct TimerEntry {
    TimePoint when;
    std::weak_ptr<Queue> queue;
    bool operator>(const TimerEntry& o) const { return when > o.when; }
  };

  std::map<std::string, std::unique_ptr<VHost>> vhosts_;
  uint64_t last_id_ = 0;
  std::mt19937_64 rng_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  std::function<void(TimePoint)> timer_hook_;
  std::function<void(const std::string&)> vhost_deleting_hook_;
  std::unordered_map<std::string, DirectReplySink*> reply_sinks_;
  DefinitionsObserver* observer_ = nullptr;
  MessageStorage* storage_ = nullptr;
  Durability durability_;
  GlobalParameters global_parameters_;
  PagingLimits paging_;
  uint64_t queued_memory_ = 0;
  MessageCounters message_counters_;
  NodeCounters node_counters_;
  bool closing_ = false;
};

}  // namespace pulse::broker
