#pragma once
// Snapshots of the live AMQP connections, channels and consumers that the management API lists.
// The process that owns the sessions (app/, over server/) fills them through Hooks; http never
// sees server/. A snapshot is taken and turned into JSON within one request on the loop
// thread, so pointers into the sessions stay valid while it is used.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "amqp/field_table.h"
#include "broker/counters.h"

namespace pulse::http {

struct ConnectionInfo {
  uint64_t id = 0;
  std::string name;  // "127.0.0.1:PEER -> 127.0.0.1:PORT"
  std::string user, vhost, auth_mechanism, peer_host, host;
  const char* state = "running";
  // "STOMP 1.2" and "direct" for STOMP sessions, as RabbitMQ lists its STOMP adapter's.
  std::string protocol = "AMQP 0-9-1";
  const char* type = "network";
  uint16_t peer_port = 0, port = 0, channel_max = 0, timeout = 0;
  uint32_t frame_max = 0;
  size_t channels = 0;
  int64_t connected_at_ms = 0;  // since the epoch
  uint64_t recv_oct = 0, recv_cnt = 0, send_oct = 0, send_cnt = 0, send_pend = 0;
  const amqp::FieldTable* client_properties = nullptr;
  // AMQPS (RabbitMQ's ssl_* and peer_cert_* fields, in Erlang's names); an empty string is
  // listed as absent (no TLS, or no client certificate).
  bool ssl = false;
  std::string ssl_protocol, ssl_cipher, ssl_key_exchange, ssl_hash;
  std::string peer_cert_subject, peer_cert_issuer, peer_cert_validity;
};

// Per-channel message counters (plain increments in the channel; the same fields as the
// broker's totals, so a scrape reads both alike).
using ChannelCounts = broker::MessageCounters;

struct ConsumerInfo {
  std::string tag, queue;
  bool ack_required = true, exclusive = false, active = true;
  uint16_t prefetch_count = 0;
  const amqp::FieldTable* arguments = nullptr;
};

struct ChannelInfo {
  uint64_t connection_id = 0;
  uint16_t number = 0;
  std::string connection_name, user, vhost, peer_host;
  uint16_t peer_port = 0;
  const char* state = "running";
  uint16_t prefetch_count = 0, global_prefetch_count = 0;
  bool confirm = false, transactional = false;
  uint64_t unacked = 0, unconfirmed = 0, uncommitted = 0, acks_uncommitted = 0;
  int64_t idle_since_ms = 0;
  ChannelCounts counts;
  std::vector<ConsumerInfo> consumers;

  std::string name() const { return connection_name + " (" + std::to_string(number) + ")"; }
  uint64_t key() const { return connection_id << 16 | number; }
};

}  // namespace pulse::http
