#pragma once
// The guardian's policy as a sans-IO state machine: its owner polls the broker (BrokerAdmin),
// hands each observation to observe(), and carries out the returned actions (delete queues,
// close connections, send notices). No I/O, no clock, no threads: "now" is passed in.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "pulse/admin/broker_admin.h"
#include "pulse/guardian/settings.h"

namespace pulse::guardian {

using admin::BindingInfo;
using admin::ConnectionInfo;
using admin::QueueInfo;
using admin::TimePoint;

// kOperator is not the policy's: an administrator writes to a queue's owner through the API
// (POST /api/pulse/guardian/notices), and it goes out like the guardian's own notices.
enum class Event { kWarning, kBackToNormal, kDeleted, kIdleDeleted, kConnectionClosed, kOperator };

// "warning", "back_to_normal", "deleted", "idle_deleted", "connection_closed", "operator": one
// routing-key word each (no dots), so `*.<owner>` selects exactly one owner's notices.
std::string_view event_name(Event event);

struct Notice {
  Event event = Event::kWarning;
  TimePoint at{};
  std::string vhost;
  std::optional<std::string> owner;  // none: a queue outside queue/<owner>/...

  // Queue events: the queue as observed when the notice was made.
  std::string queue;
  uint64_t messages = 0;
  uint64_t messages_ready = 0;
  uint64_t messages_unacknowledged = 0;
  // Messages per second since the previous observation; none on a queue's first one.
  std::optional<double> growth_rate;
  uint32_t consumers = 0;
  std::vector<BindingInfo> bindings;
  Thresholds thresholds;  // those that applied to this queue
  bool unbounded = false;
  std::chrono::seconds idle_for{0};           // kIdleDeleted: how long it had no consumer
  std::chrono::seconds idle_queue_expiry{0};  // kIdleDeleted: the limit that applied

  // kConnectionClosed. `owner` is the connection's user there.
  std::string connection;
  std::string user;
  std::string peer;
  TimePoint connected_at{};
  std::chrono::seconds connection_age{0};
  std::chrono::seconds max_connection_age{0};

  // kOperator: who wrote it (the administrator's user name) and what.
  std::string operator_name;
  std::string message;

  bool operator==(const Notice&) const = default;
};

struct DeleteQueue {
  std::string vhost;
  std::string name;
  std::string reason;
  bool operator==(const DeleteQueue&) const = default;
};

struct CloseConnection {
  std::string name;
  std::string reason;
  bool operator==(const CloseConnection&) const = default;
};

// A command comes before the notice that reports it ("has been deleted" is past tense): a runner
// that carries out actions in order tells owners only after the broker was asked.
using Action = std::variant<Notice, DeleteQueue, CloseConnection>;

class GuardianPolicy {
 public:
  // `settings` must have passed validate(); the policy does not check them again.
  explicit GuardianPolicy(GuardianSettings settings);

  // One poll's result: every queue and connection of the broker. Queues and connections absent
  // from it are forgotten (a queue that comes back starts afresh). Actions come out in the
  // order of `queues`, then of `connections`.
  std::vector<Action> observe(TimePoint now, const std::vector<QueueInfo>& queues,
                              const std::vector<ConnectionInfo>& connections);

  // New settings apply from the next observation; what was observed is kept (a warned queue is
  // not warned again because a threshold moved).
  void set_settings(GuardianSettings settings) { settings_ = std::move(settings); }
  const GuardianSettings& settings() const { return settings_; }

 private:
  struct QueueState {
    uint64_t messages = 0;
    TimePoint seen{};
    bool warned = false;  // a warning is out and no back-to-normal yet
    // Deletion was asked for; while the queue still qualifies the command is repeated without a
    // new notice (a failed delete, or the command not yet carried out).
    bool delete_requested = false;
    std::optional<TimePoint> no_consumer_since;
  };

  void observe_queue(TimePoint now, const QueueInfo& q, QueueState* st, bool first,
                     std::vector<Action>* out);

  GuardianSettings settings_;
  std::map<QueueRef, QueueState> queues_;
  std::set<std::string> closing_;  // connections a close was asked for
};

}  // namespace pulse::guardian
