#pragma once
// STOMP settings (rabbitmq_stomp's, under stomp.* in pulse.conf) with RabbitMQ's defaults.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stomp/parser.h"

namespace pulse::stomp_server {

struct StompOptions {
  // stomp.default_user / stomp.default_pass: the credentials of a CONNECT without `login`.
  std::optional<std::string> default_login = "guest";
  std::optional<std::string> default_passcode = "guest";
  std::string default_vhost = "/";                   // stomp.default_vhost
  std::string default_topic_exchange = "amq.topic";  // stomp.default_topic_exchange
  bool default_nack_requeue = true;                  // stomp.default_nack_requeue
  bool implicit_connect = false;                     // stomp.implicit_connect
  bool hide_server_info = false;                     // stomp.hide_server_info
  uint32_t login_timeout_ms = 10000;                 // stomp.login_timeout
  // consumer_timeout, the AMQP key: RabbitMQ's STOMP sessions run on an AMQP channel.
  uint32_t consumer_timeout_ms = 1800000;
  std::vector<std::string> loopback_users{"guest"};
  stomp::ParserLimits limits;
  // The CONNECTED frame's `server` header.
  std::string server_header = "Pulse/0.1.0";
  // Unsent output bytes past which this session's subscriptions stop receiving.
  size_t max_output_backlog = 4 * 1024 * 1024;
};

}  // namespace pulse::stomp_server
