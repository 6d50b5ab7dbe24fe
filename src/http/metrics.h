#pragma once
// Prometheus text exposition (format 0.0.4) with rabbitmq_prometheus's (RabbitMQ 3.10) metric
// names, types and help texts, so RabbitMQ's Grafana dashboards read pulsed unchanged.
// GET /metrics is aggregated (no per-object labels), GET /metrics/per-object labels queues
// ({vhost, queue}), channels ({channel, vhost, ...}) and connections. No authentication, as
// RabbitMQ's endpoint. Queues are read on the event loop in ~1 ms slices, sessions and counters
// at once; the text is written on the management worker thread.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "broker/counters.h"
#include "http/message.h"

namespace pulse::http {

class Api;

// One open channel, as the owning process (app/, from server/) reports it.
struct ChannelMetrics {
  std::string name;  // "127.0.0.1:5000 -> 127.0.0.1:5672 (1)", the management API's name
  std::string vhost;
  size_t consumers = 0;
  uint64_t unacked = 0, unconfirmed = 0, uncommitted = 0;
  uint16_t prefetch = 0, global_prefetch = 0;
  broker::MessageCounters counters;
};

// One open AMQP connection.
struct ConnectionMetrics {
  std::string name;  // "127.0.0.1:5000 -> 127.0.0.1:5672"
  size_t channels = 0;
  uint64_t recv_oct = 0, send_oct = 0;
};

// True for the paths this module answers (/metrics, /metrics/per-object).
bool is_metrics_path(const Request& req);
// Answers through `done`, later: queues are read in slices, the text written on the worker.
void metrics_response(Api& api, const Request& req, std::function<void(Response)> done);

}  // namespace pulse::http
