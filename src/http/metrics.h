#pragma once
// Prometheus text exposition (format 0.0.4) with rabbitmq_prometheus's (RabbitMQ 3.10) metric
// names, types and help texts, so RabbitMQ's Grafana dashboards read pulsed unchanged.
// GET /metrics is aggregated (no per-object labels), GET /metrics/per-object labels queues
// ({vhost, queue}), channels ({channel, vhost, ...}) and connections. No authentication, as
// RabbitMQ's endpoint. Connections (one per step, through Hooks::connection_ids / connection /
// connection_channels, as the listings) and queues are read on the event loop in ~1 ms slices,
// counters at once; the text is written on the management worker thread.
#include <functional>

#include "http/message.h"

namespace pulse::http {

class Api;

// True for the paths this module answers (/metrics, /metrics/per-object).
bool is_metrics_path(const Request& req);
// Answers through `done`, later: queues are read in slices, the text written on the worker.
void metrics_response(Api& api, const Request& req, std::function<void(Response)> done);

}  // namespace pulse::http
