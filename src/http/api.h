#pragma once
// The management API: routing of RabbitMQ's /api paths to one controller per resource, with
// RabbitMQ's authentication (HTTP Basic against the broker's users), authorisation by user tag
// and vhost permission, and error bodies. Runs on the broker's event-loop thread.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_store.h"
#include "auth/failure_limiter.h"
#include "base/result.h"
#include "broker/broker.h"
#include "http/channel_stats.h"
#include "http/chunked.h"
#include "http/connections_view.h"
#include "http/message.h"
#include "http/stats.h"

namespace pulse::http {

struct ListenerInfo {
  std::string protocol;  // "amqp", "http"
  std::string ip;
  uint16_t port = 0;
};

// One TLS listener's certificate files as read now (the check reads them when asked, as
// RabbitMQ does), for /api/health/checks/certificate-expiration.
struct TlsListenerCertificates {
  std::string protocol;  // "amqp/ssl", "https", "https/prometheus"
  std::string interface;
  uint16_t port = 0;
  std::string certfile, cacertfile;  // cacertfile may be empty (not configured)
  // The notAfter of every certificate in each file, in file order; `*_error` says why a file
  // could not be read (then its list is empty).
  std::vector<std::chrono::system_clock::time_point> certfile_not_after, cacertfile_not_after;
  std::string certfile_error, cacertfile_error;
};

// The node's state as the server sees it (alarms, listeners, resources).
struct NodeStatus {
  bool memory_alarm = false, disk_alarm = false;
  std::vector<ListenerInfo> listeners;
  uint64_t mem_used = 0, mem_limit = 0, disk_free = 0, disk_free_limit = 0;
  size_t connections = 0;
  size_t channels = 0;
};

// What the management API needs from the process that owns it (app/): persistence of auth
// changes (the broker's own changes reach storage through its definitions observer) and the
// definitions import, which app/ applies through src/definitions in slices.
struct Hooks {
  std::function<void(std::string_view user)> user_changed;
  std::function<void(std::string_view user, std::string_view vhost)> permission_changed;
  std::function<void(std::string_view user, std::string_view vhost, std::string_view exchange)>
      topic_permission_changed;
  // Imports a definitions document (RabbitMQ's JSON) through `s`, in slices (a big import
  // must not stall the loop), then calls `done` on the loop. With `vhost`, the vhost-less form
  // of POST /api/definitions/{vhost}. Errors carry a human-readable text.
  std::function<void(Scheduler& s, std::shared_ptr<nlohmann::json> defs,
                     std::optional<std::string> vhost, std::function<void(Status)> done)>
      import_definitions;
  // The "pulse" object of GET /api/definitions (Pulse's owners, users, claims and guardian
  // layer; app/ wires it): nothing, or null hook, leaves it out, as on RabbitMQ.
  std::function<std::optional<nlohmann::json>()> pulse_definitions;

  // Cheap: counters and a few system calls, no walk over connections or queues.
  std::function<NodeStatus()> node_status;
  // Every TLS listener of the node (AMQPS, HTTPS) with its certificates' expiry dates.
  std::function<std::vector<TlsListenerCertificates>()> tls_listener_certificates;

  // Live AMQP connections (open ones: the vhost is known), one at a time, so that listings,
  // statistics and scrapes walk 10k of them in slices: the listed connections' ids in order,
  // then each by id (nullopt once it closed) and its channels with their consumers.
  std::function<std::vector<uint64_t>()> connection_ids;
  std::function<std::optional<ConnectionInfo>(uint64_t id)> connection;
  std::function<std::vector<ChannelInfo>(uint64_t id)> connection_channels;
  // Single objects, found without a walk: a connection's id by its name (0 when none), one
  // channel of a connection, and the queue's consumers [from, from + count) in its own order
  // with their channels (an entry carries only that queue's consumers), for consumer_details
  // in slices (a queue may have 10k consumers).
  std::function<uint64_t(const std::string& name)> connection_id_by_name;
  std::function<std::optional<ChannelInfo>(uint64_t id, uint16_t number)> channel;
  std::function<std::vector<ChannelInfo>(const broker::Queue& q, size_t from, size_t count)>
      queue_consumers;
  // Closes with 320 "CONNECTION_FORCED - <reason>"; false when the id is unknown.
  std::function<bool(uint64_t id, const std::string& reason)> close_connection;
  // /api/pulse/...: Pulse's own API (app/ wires pulse/api's PulseApi; http does not link the
  // Pulse layer), called after this API's authentication with the signed-in user; the
  // request's segments still start with "pulse". Null: 404.
  std::function<Response(const Request& req, const auth::User& user)> pulse_api;
};

class Api;

// One authenticated request, handed to a controller.
struct Call {
  Api& api;
  const Request& req;
  const auth::User& user;
  // For answers that come later (chunked work): the request outlives the call through this,
  // and `respond` answers it. A controller that uses them returns deferred().
  std::shared_ptr<const Request> req_ptr;
  std::function<void(Response)> respond;

  broker::Broker& broker() const;
  auth::AuthStore& auth() const;
  const std::string& method() const { return req.method; }
  size_t nseg() const { return req.segments.size(); }
  const std::string& seg(size_t i) const { return req.segments[i]; }
};

// Tag checks as rabbit_mgmt_util: administrator implies every other role, monitoring implies
// management, policymaker implies management.
bool is_management(const auth::User& u);
bool is_monitor(const auth::User& u);
bool is_policymaker(const auth::User& u);
bool is_admin(const auth::User& u);

// 401 unless the user has the role ("Not administrator user", "Not monitor user", ...).
std::optional<Response> require_admin(const Call& c);
std::optional<Response> require_monitor(const Call& c);
std::optional<Response> require_policymaker(const Call& c);
// The vhost must exist (404) and the user have access to it (401 "User not authorised to
// access virtual host"). `visible` marks reads, which monitoring users and administrators may
// do on any vhost.
std::optional<Response> require_vhost(const Call& c, const std::string& vhost, bool visible);
// Vhosts the user may see in listings: all for monitoring users, else those with a permission.
bool vhost_visible(const Call& c, const std::string& vhost);
// The same test for chunked work, which outlives the call: `only_vhost` restricts it to one.
VhostWalk::Keep visible_vhosts(const Call& c, const std::string* only_vhost);

// A JSON object; nullopt when the text is not one.
std::optional<nlohmann::json> parse_json_object(const std::string& text);
// The body as a JSON object; nullopt with `error` set to the 400 to answer.
std::optional<nlohmann::json> parse_body(const Call& c, Response& error);

// An AMQP-level broker error as the management API reports it: the reply-code prefix
// ("PRECONDITION_FAILED - ") goes, 403 access refused becomes 401 not_authorised, 404 the
// not-found body, anything else 400 bad_request.
Response broker_error(const Error& e);

class Api {
 public:
  Api(broker::Broker& broker, auth::AuthStore& auth, Hooks hooks, std::string node_name);

  // `done` may run before handle() returns, or later on the same thread (chunked listings).
  void handle(Request req, std::function<void(Response)> done);

  broker::Broker& broker() { return broker_; }
  auth::AuthStore& auth() { return auth_; }
  // Failed Basic-auth logins per source address (auth_failure_limit.* in pulse.conf).
  void limit_auth_failures(const auth::FailureLimitOptions& o) {
    auth_failures_ = auth::FailureLimiter(o);
  }
  const Hooks& hooks() const { return hooks_; }
  // The HTTP server provides the loop and the worker; without one, work runs inline.
  void set_scheduler(Scheduler* s) { scheduler_ = s != nullptr ? s : &inline_; }
  Scheduler& scheduler() { return *scheduler_; }
  const std::string& node_name() const { return node_name_; }
  Stats& stats() { return stats_; }
  ChannelStats& channel_stats() { return channel_stats_; }

 private:
  Response dispatch(const Call& c);

  broker::Broker& broker_;
  auth::AuthStore& auth_;
  auth::FailureLimiter auth_failures_;
  Hooks hooks_;
  std::string node_name_;
  Stats stats_;
  ChannelStats channel_stats_;
  InlineScheduler inline_;
  Scheduler* scheduler_ = &inline_;
};

// What a controller returns when it answers later through Call::respond.
Response deferred();
inline bool is_deferred(const Response& r) {
  return r.status == 0;
}

// Controllers (one file each). Each handles the paths under its first segment.
Response overview_controller(const Call& c);  // overview, whoami, nodes, extensions
Response health_controller(const Call& c);    // health/checks/..., aliveness-test
Response vhosts_controller(const Call& c);
Response users_controller(const Call& c);
Response permissions_controller(const Call& c);  // permissions, topic-permissions
Response exchanges_controller(const Call& c);
Response queues_controller(const Call& c);
Response bindings_controller(const Call& c);
Response policies_controller(const Call& c);
Response definitions_controller(const Call& c);
Response connections_controller(const Call& c);  // connections, vhosts/{v}/connections
Response channels_controller(const Call& c);     // channels, vhosts/{v}/channels
Response consumers_controller(const Call& c);
// feature-flags, operator-policies
Response optional_features_controller(const Call& c);
// vhost-limits, user-limits, parameters (whose only component is vhost-limits)
Response limits_controller(const Call& c);
// GET /api/auth, answered without credentials.
Response auth_settings();
Response global_parameters_controller(const Call& c);  // cluster-name, global-parameters
Response pulse_controller(const Call& c);              // pulse/... through Hooks::pulse_api

// GET /api/queues/{vhost}/{name}: `queue` (the queue's JSON) with its consumer_details, made
// from the queue's own consumers in slices; answers through the call. Returns deferred().
Response reply_queue_with_consumers(const Call& c, const std::string& vhost,
                                    const std::string& name, nlohmann::json queue);

}  // namespace pulse::http
