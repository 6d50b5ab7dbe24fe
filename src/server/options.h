#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "auth/failure_limiter.h"
#include "tls/certificate.h"

namespace pulse::server {

// Protocol limits offered to clients; defaults are RabbitMQ's. (The cluster name in
// connection.start is the broker's cluster_name global parameter.)
struct ServerOptions {
  uint16_t channel_max = 2047;
  uint32_t frame_max = 131072;
  uint16_t heartbeat = 60;  // seconds; 0 disables
  uint32_t handshake_timeout_ms = 10000;
  // consumer_timeout: a channel whose oldest unacknowledged delivery (to a consumer or from
  // basic.get) is older than this is closed with 406, its deliveries requeued, as RabbitMQ.
  uint32_t consumer_timeout_ms = 1800000;
  uint64_t max_message_size = 128ull * 1024 * 1024;
  uint64_t connection_max = 0;  // 0 = unlimited
  std::vector<std::string> loopback_users{"guest"};
  // auth_mechanisms.N: PLAIN, AMQPLAIN, EXTERNAL; empty means RabbitMQ's "PLAIN AMQPLAIN".
  std::vector<std::string> auth_mechanisms;
  // How EXTERNAL names the user of a client certificate (ssl_cert_login_from...).
  tls::CertLoginOptions cert_login;
  // Failed logins per source address (auth_failure_limit.* in pulse.conf).
  auth::FailureLimitOptions auth_failure_limit;
  // Output bytes queued for one connection before its consumers stop receiving deliveries.
  size_t max_output_backlog = 4 * 1024 * 1024;
  // Resource alarms (0 = off): publishers are blocked while RSS is above the memory watermark
  // or free disk space under the data directory is below the limit.
  uint64_t memory_high_watermark = 0;
  uint64_t disk_free_limit = 0;
  std::string data_dir;
};

}  // namespace pulse::server
