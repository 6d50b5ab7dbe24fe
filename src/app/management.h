#pragma once
// Wiring of the management API (http/) to the process: persistence of auth changes through
// the DefinitionsPersister, definitions import with app's parser, node status from the server.
#include <chrono>

#include "app/persistence.h"
#include "app/tls_registry.h"
#include "auth/auth_store.h"
#include "broker/broker.h"
#include "http/api.h"
#include "pulse/admin_local/local_broker_admin.h"
#include "pulse/api/definitions_section.h"
#include "server/server.h"
#include "stomp_server/stomp_server.h"
#include "store/definitions_store.h"

namespace pulse::app {

struct ManagementContext {
  broker::Broker& broker;
  auth::AuthStore& auth;
  store::DefinitionsStore& store;
  DefinitionsPersister& persister;
  server::Server& server;
  std::vector<http::ListenerInfo> listeners;
  uint64_t memory_high_watermark = 0;
  uint64_t disk_free_limit = 0;
  std::string data_dir;
  // The process's TLS listeners, for the certificate-expiration health check (null: none).
  const TlsRegistry* tls = nullptr;
  // Pulse's state in definitions (app/pulse_service.h), set once the PulseService exists:
  // the export's "pulse" object, the check before an import applies anything, and the import
  // of the section once the broker's part is in. Null: a "pulse" section is ignored.
  std::function<std::optional<nlohmann::json>()> pulse_export;
  std::function<Status(const api::PulseSection&)> pulse_check;
  std::function<Status(const api::PulseSection&)> pulse_import;
  // STOMP sessions, listed beside the AMQP connections (null: STOMP not started).
  stomp_server::StompServer* stomp = nullptr;
};

// Snapshots of the open AMQP sessions (management_sessions.cc), one connection, channel or
// queue at a time: listings, statistics and scrapes walk the ids in slices.
std::vector<uint64_t> connection_ids(server::Server& server);
std::optional<http::ConnectionInfo> find_connection(server::Server& server, uint64_t id);
// 0 when no open connection has that name.
uint64_t connection_id_by_name(server::Server& server, const std::string& name);
std::vector<http::ChannelInfo> connection_channels(server::Server& server, uint64_t id);
std::optional<http::ChannelInfo> find_channel(server::Server& server, uint64_t id, uint16_t number);
// The queue's consumers [from, from + count), each with its channel (an entry lists only this
// queue's consumers).
std::vector<http::ChannelInfo> queue_consumers(server::Server& server, const broker::Queue& q,
                                               size_t from, size_t count);

// `ctx` must outlive the returned hooks.
http::Hooks management_hooks(ManagementContext& ctx);

// The in-process BrokerAdmin's callbacks (pulse/admin_local): auth changes persisted through the
// same DefinitionsPersister calls as the management API's hooks, the server's open connections
// (IPv6 peers as "[addr]:port") and their closing with 320 CONNECTION_FORCED. `ctx` must outlive
// them.
admin::LocalAdminHooks local_admin_hooks(ManagementContext& ctx);

// The same snapshots of STOMP sessions (management_stomp.cc): one channel each, number 1.
std::vector<uint64_t> stomp_connection_ids(stomp_server::StompServer& s);
std::optional<http::ConnectionInfo> find_stomp_connection(stomp_server::StompServer& s,
                                                          uint64_t id);
uint64_t stomp_connection_id_by_name(stomp_server::StompServer& s, const std::string& name);
std::vector<http::ChannelInfo> stomp_connection_channels(stomp_server::StompServer& s, uint64_t id);
std::optional<http::ChannelInfo> find_stomp_channel(stomp_server::StompServer& s, uint64_t id,
                                                    uint16_t number);
// The channel entry of a STOMP subscription's consumer, with only that consumer.
std::optional<http::ChannelInfo> stomp_consumer_channel(stomp_server::StompServer& s,
                                                        const broker::Consumer& c);

// Milliseconds since the epoch, as the management API's timestamps are given.
inline int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace pulse::app
