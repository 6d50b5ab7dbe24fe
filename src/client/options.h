#pragma once
// Connection settings and amqp:// URI parsing (RabbitMQ's URI spec, pika's reading of it).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace pulse::client {

// amqps:// settings (RabbitMQ's URI query keys of the same names).
struct TlsOptions {
  std::string cacertfile;  // PEM CA bundle; empty = the system's trusted CAs
  std::string certfile;    // PEM client certificate (for SASL EXTERNAL), with keyfile
  std::string keyfile;
  bool verify_peer = true;  // false = verify_none: no chain or host name check (tests only)
  // Sent as SNI and checked against the certificate; empty = the host. "disable" sends no SNI
  // (the certificate is still checked against the host).
  std::string server_name_indication;
};

enum class AuthMechanism { kPlain, kExternal };

struct ConnectionOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5672;
  std::string vhost = "/";
  // amqps://: TLS on the socket (the default port becomes 5671).
  bool tls = false;
  TlsOptions tls_options;
  // PLAIN sends user and password; EXTERNAL (?auth_mechanism=external) sends an empty response
  // and the server takes the identity from the TLS client certificate.
  AuthMechanism auth_mechanism = AuthMechanism::kPlain;
  std::string user = "guest";
  std::string password = "guest";
  // Heartbeat interval in seconds; nullopt takes the server's offer, 0 turns heartbeats off.
  std::optional<uint16_t> heartbeat;
  uint32_t frame_max = 131072;  // 0 = accept the server's limit
  uint16_t channel_max = 2047;  // 0 = accept the server's limit
  std::string connection_name;  // sent as client_properties.connection_name when set
  std::chrono::milliseconds connect_timeout{30000};
  // How long a synchronous method (declare, bind, close, ...) waits for its reply.
  std::chrono::milliseconds rpc_timeout{30000};
  // How long the handshake (start, tune, open) may take after the TCP connect; nullopt =
  // rpc_timeout. Reconnecting clients bound it so a peer that accepts and stays silent cannot
  // hold them for long.
  std::optional<std::chrono::milliseconds> handshake_timeout;
  // Publishes and acks are buffered and written once this many bytes are pending (or on the
  // next pump/flush): many frames per write syscall.
  size_t write_batch_bytes = 64 * 1024;
  // Largest single read; every complete frame in it is handled before the next read.
  size_t read_chunk = 256 * 1024;
};

// amqp://user:pass@host:port/vhost?heartbeat=N&frame_max=N&channel_max=N&connection_timeout=MS
//   &auth_mechanism=plain|external
// amqps:// is the same with tls set and 5671 as the default port, plus the TLS keys cacertfile,
// certfile, keyfile, verify=verify_peer|verify_none and server_name_indication (refused on
// amqp://, where they would silently do nothing). Omitted parts keep the defaults
// above; an empty or missing path means vhost "/" (as pika reads it); "%2F" is "/". Unknown query
// keys are errors, so a typo cannot pass silently.
Result<ConnectionOptions> parse_uri(std::string_view uri, ConnectionOptions defaults = {});

}  // namespace pulse::client
