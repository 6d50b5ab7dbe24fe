#pragma once
// pulse-perf's settings, named after RabbitMQ PerfTest / lavinmqperf flags.
#include <cstdint>
#include <string>
#include <vector>

#include "amqp/field_table.h"
#include "base/result.h"
#include "client/options.h"

namespace pulse::perf {

struct PerfOptions {
  std::string uri = "amqp://guest:guest@127.0.0.1:5672/%2F";
  client::ConnectionOptions connection;  // parsed from uri

  int producers = 1;                     // -x
  int consumers = 1;                     // -y
  size_t size = 16;                      // -s, bytes (>= 12)
  double seconds = 0;                    // -z, 0 = until -C/-D or Ctrl-C
  std::string queue;                     // -u, empty = generated names, deleted at the end
  std::string exchange = "amq.direct";   // -e
  std::string exchange_type = "direct";  // -t
  std::string routing_key;               // -k, empty = generated
  uint16_t prefetch = 0;                 // -q, 0 = unlimited
  bool auto_ack = false;                 // -a
  uint32_t multi_ack = 0;                // -A, ack every N deliveries with multiple=true
  uint32_t confirm = 0;                  // -c, publisher confirms with at most N unconfirmed
  bool persistent = false;               // -p, delivery mode 2 and durable queues
  bool mandatory = false;                // -f mandatory
  double rate = 0;                       // -r, per producer msg/s, 0 = unlimited
  uint64_t producer_messages = 0;        // -C, per producer
  uint64_t consumer_messages = 0;        // -D, per consumer
  bool latency = false;                  // -l
  bool json = false;                     // --json
  int queues = 1;                        // --queues: each message goes to every queue (fan-out)
  bool spread = false;                   // --spread: producer i publishes to queue i % N only
  amqp::FieldTable queue_args;           // --queue-args k=v,k2=v2
  uint32_t consumer_latency_us = 0;      // -L, sleep per delivery (a slow consumer)
  double drain_timeout = 3;              // --drain-timeout: seconds without progress
  double interval = 1;                   // -i, seconds between progress lines

  std::string churn;         // --churn declare|bind|connect|channel
  int idle_connections = 0;  // --connections N
  int idle_queues = 0;       // --idle-queues N
};

// "x-max-length=10,x-overflow=drop-head": integers become signed longs, true/false booleans,
// anything else a string.
Result<amqp::FieldTable> parse_queue_args(const std::vector<std::string>& items);

}  // namespace pulse::perf
