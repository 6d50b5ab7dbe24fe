#pragma once
// The one interface the guardian and the account service use to reach a broker (design §9).
// Two backends will implement it: in-process for pulsed, and RabbitMQ's management HTTP API for a
// RabbitMQ node or cluster; the same tests are meant to run against both, so the types below
// carry only what both can report.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace pulse::admin {

// Wall-clock time: RabbitMQ reports connected_at and idle_since as wall-clock instants, and the
// guardian compares them with its own "now".
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// A binding whose destination is the queue. The default exchange's implicit binding is left
// out: it names no exchange an owner could act on.
struct BindingInfo {
  std::string source;  // the exchange
  std::string routing_key;
  bool operator==(const BindingInfo&) const = default;
};

struct QueueInfo {
  std::string vhost;
  std::string name;
  uint64_t messages = 0;  // ready + unacknowledged: what the thresholds apply to
  uint64_t messages_ready = 0;
  uint64_t messages_unacknowledged = 0;
  uint32_t consumers = 0;
  bool durable = false;
  bool auto_delete = false;
  bool exclusive = false;
  // The broker's own "idle since", when it reports one. Shown to owners only: its meaning differs
  // between brokers (RabbitMQ sets it when the queue process goes quiet, consumers or not), so
  // the guardian's idle expiry tracks consumers itself (guardian/README.md).
  std::optional<TimePoint> idle_since;
  std::vector<BindingInfo> bindings;
};

struct ExchangeInfo {
  std::string vhost;
  std::string name;  // "" is the default exchange, listed as both brokers list it
  std::string type;  // "topic", "direct", ...
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  bool operator==(const ExchangeInfo&) const = default;
};

struct ConnectionInfo {
  std::string name;  // the broker's unique name, what close_connection takes
  std::string user;
  std::string vhost;
  TimePoint connected_at{};
  std::string peer;  // "host:port" of the client
};

struct UserInfo {
  std::string name;
  std::vector<std::string> tags;
  bool operator==(const UserInfo&) const = default;
};

struct Permissions {
  std::string configure;
  std::string write;
  std::string read;
  bool operator==(const Permissions&) const = default;
};

struct UserPermissions {
  std::string vhost;
  std::string user;
  Permissions permissions;
  bool operator==(const UserPermissions&) const = default;
};

// Error codes every backend uses, so callers can tell "already gone" from a failure without
// parsing texts: kNotFound for a missing queue, user or connection (the guardian treats a delete
// that finds nothing as done), kUnavailable when the broker could not be reached or answered
// garbage (the guardian backs off), anything else is the broker's refusal.
inline constexpr uint16_t kNotFound = 404;
inline constexpr uint16_t kUnavailable = 503;

// Synchronous: each call returns when the broker has answered. Implementations are not
// thread-safe; one owner calls them from one thread (guardian/README.md says which).
class BrokerAdmin {
 public:
  virtual ~BrokerAdmin() = default;

  // Every queue of every vhost, with its sizes, consumers and bindings.
  virtual Result<std::vector<QueueInfo>> list_queues() = 0;
  // `reason` is logged by the broker (RabbitMQ's X-Reason header).
  virtual Status delete_queue(const std::string& vhost, const std::string& name,
                              const std::string& reason) = 0;

  // Every exchange of every vhost, the default and amq.* ones included.
  virtual Result<std::vector<ExchangeInfo>> list_exchanges() = 0;
  // Its bindings go with it. A missing vhost or exchange is kNotFound; the default exchange and
  // amq.* ones are refused (401 "Access refused.", as both management APIs answer).
  virtual Status delete_exchange(const std::string& vhost, const std::string& name) = 0;

  virtual Result<std::vector<ConnectionInfo>> list_connections() = 0;
  // The client sees 320 CONNECTION_FORCED with `reason`.
  virtual Status close_connection(const std::string& name, const std::string& reason) = 0;

  virtual Result<std::vector<UserInfo>> list_users() = 0;
  // Creates the user, or changes the password and tags of an existing one while keeping its
  // permissions, connections and queues (so a password change drops nothing).
  virtual Status put_user(const std::string& name, const std::string& password,
                          const std::vector<std::string>& tags) = 0;
  // Also removes the user's permissions; its queues stay (the guardian deals with those).
  virtual Status delete_user(const std::string& name) = 0;

  virtual Status set_permissions(const std::string& vhost, const std::string& user,
                                 const Permissions& permissions) = 0;
  // The user's permission entries on every vhost.
  virtual Result<std::vector<UserPermissions>> list_permissions(const std::string& user) = 0;
};

}  // namespace pulse::admin
