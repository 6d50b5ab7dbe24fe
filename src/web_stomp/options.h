#pragma once
// Web-STOMP settings (rabbitmq_web_stomp's, under web_stomp.* in pulse.conf) with RabbitMQ's
// defaults.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace pulse::web_stomp {

struct WebStompOptions {
  std::string path = "/ws";    // web_stomp.ws_path
  bool binary_frames = false;  // web_stomp.ws_frame = binary: STOMP frames go out as binary
  bool compress = true;  // web_stomp.ws_opts.compress: permessage-deflate when the client asks
  // web_stomp.ws_opts.max_frame_size: the largest WebSocket message read (RabbitMQ's cowboy
  // has no limit by default; Beast's default, 16 MiB, bounds the memory one client takes).
  size_t max_message_size = 16 * 1024 * 1024;
  // web_stomp.ws_opts.idle_timeout (cowboy's default, 60 s): closed when nothing arrived for
  // that long. 0: never.
  std::chrono::milliseconds idle_timeout{60000};
  // The upgrade request on Web-STOMP's own listeners must have arrived within this of the
  // connection's start (after a TLS handshake), however slowly it trickles in: cowboy's
  // request_timeout, which rabbitmq_web_stomp leaves at its default (rabbitmq.conf has no key
  // for it). Cut within the headers it is answered 408, before its request line just closed.
  std::chrono::milliseconds request_timeout{5000};
  // The TLS handshake on its TLS listener (ranch's handshake_timeout default).
  std::chrono::milliseconds tls_handshake_timeout{5000};
  // Beast's answer to the upgrade, and a closing handshake, must finish within this.
  std::chrono::milliseconds handshake_timeout{10000};
  // web_stomp.use_http_auth: the upgrade request's Basic credentials (or, without an
  // Authorization header, stomp.default_user's) log the session in; CONNECT's are ignored.
  bool use_http_auth = false;
  // web_stomp.max_connections (none: infinity): per listener of Web-STOMP's own, as ranch
  // counts; at the limit the listener stops accepting (clients wait in the backlog) until one
  // of its connections ends. Exact here; RabbitMQ's ranch lets each of its acceptors
  // (web_stomp.num_acceptors.*, 10) accept one more before blocking. The management
  // listener's path is not counted.
  std::optional<size_t> max_connections;
};

}  // namespace pulse::web_stomp
