#pragma once
// Wiring of the management API (http/) to the process: persistence of auth changes through
// the DefinitionsPersister, definitions import with app's parser, node status from the server.
#include "app/persistence.h"
#include "auth/auth_store.h"
#include "broker/broker.h"
#include "http/api.h"
#include "server/server.h"
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
};

// Snapshots of the open AMQP sessions (management_sessions.cc).
std::vector<http::ConnectionInfo> connection_snapshot(server::Server& server);
std::vector<http::ChannelInfo> channel_snapshot(server::Server& server);
// The same one connection at a time, for listings walked in slices.
std::vector<uint64_t> connection_ids(server::Server& server);
std::optional<http::ConnectionInfo> find_connection(server::Server& server, uint64_t id);
std::vector<http::ChannelInfo> connection_channels(server::Server& server, uint64_t id);

// `ctx` must outlive the returned hooks.
http::Hooks management_hooks(ManagementContext& ctx);

}  // namespace pulse::app
