#pragma once
// Process-wide and per-vhost event counters for the management API's message_stats and the
// Prometheus endpoint. Plain integers: every increment happens on the event-loop thread, and
// readers (http/) run there too. They only grow (a scrape computes rates from differences),
// unlike RabbitMQ's aggregated channel metrics, which forget closed channels.
#include <cstdint>

namespace pulse::broker {

// Message events, counted per vhost and for the whole broker.
struct MessageCounters {
  uint64_t publish = 0;            // basic.publish received on a channel
  uint64_t confirm = 0;            // publisher confirms (basic.ack) sent
  uint64_t return_unroutable = 0;  // mandatory and unroutable: basic.return
  uint64_t drop_unroutable = 0;    // not mandatory and unroutable: dropped
  uint64_t routed = 0;             // publishes routed to at least one queue
  uint64_t queue_publish = 0;      // messages enqueued (one per destination queue)
  uint64_t deliver = 0;            // basic.deliver, manual acknowledgement
  uint64_t deliver_no_ack = 0;     // basic.deliver, automatic acknowledgement
  uint64_t get = 0;                // basic.get-ok, manual acknowledgement
  uint64_t get_no_ack = 0;         // basic.get-ok, automatic acknowledgement
  uint64_t get_empty = 0;          // basic.get-empty
  uint64_t redeliver = 0;          // deliveries and gets of redelivered messages
  uint64_t ack = 0;                // messages acknowledged by consumers
};

// Lifecycle events of the whole broker (rabbitmq_*_opened_total and friends).
struct NodeCounters {
  uint64_t connections_opened = 0, connections_closed = 0;
  uint64_t channels_opened = 0, channels_closed = 0;
  uint64_t queues_declared = 0, queues_created = 0, queues_deleted = 0;
};

}  // namespace pulse::broker
