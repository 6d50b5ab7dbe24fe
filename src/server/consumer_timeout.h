#pragma once
// consumer_timeout (RabbitMQ's key): its clock and its close text, shared by AMQP channels and
// STOMP sessions (RabbitMQ's STOMP plugin runs each session on an AMQP channel, numbered 1).
#include <cstdint>
#include <string>

namespace pulse::server {

// CLOCK_MONOTONIC_COARSE in milliseconds: a few ns per call (deliveries read it), a few ms of
// resolution (consumer_timeout is counted in minutes).
int64_t coarse_now_ms();

// RabbitMQ 3.10's PRECONDITION_FAILED text for channel `channel` whose oldest delivery was not
// acknowledged within `timeout_ms`.
std::string consumer_timeout_text(uint16_t channel, uint32_t timeout_ms);

}  // namespace pulse::server
