#pragma once
// The final report of a run, printed as text or as one JSON object (--json) for bench scripts.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stats.h"

namespace pulse::perf {

struct Summary {
  std::string scenario = "load";  // load | churn-<kind> | connections
  // Settings echoed back so a JSON consumer needs nothing else.
  int producers = 0, consumers = 0, queues = 0;
  size_t size = 0;
  uint32_t confirm = 0, multi_ack = 0;
  uint16_t prefetch = 0;
  bool auto_ack = false, persistent = false;

  double duration_s = 0;  // producing phase (or the scenario's run time)
  uint64_t sent = 0, confirmed = 0, nacked = 0, returned = 0, unconfirmed = 0;
  double sent_rate = 0, confirmed_rate = 0;
  uint64_t received = 0;
  double received_rate = 0;  // received / time until the last delivery

  bool verified = false;  // loss and duplicates were checked
  uint64_t lost = 0, duplicated = 0, redelivered = 0, foreign = 0, impossible = 0;

  std::optional<HistogramSnapshot> latency;

  // churn / connections scenarios
  uint64_t operations = 0;
  double operations_rate = 0;
  int idle_connections = 0, idle_connections_lost = 0;
  double idle_connect_s = 0;
  int idle_queues = 0;
  double idle_queue_declare_s = 0;

  double cpu_s = 0;           // user + system CPU of the whole pulse-perf process
  double cpu_us_per_msg = 0;  // cpu_s / (sent + received)
  std::vector<std::string> errors;

  bool ok() const {
    return errors.empty() && lost == 0 && duplicated == 0 && impossible == 0 && unconfirmed == 0 &&
           idle_connections_lost == 0;
  }
};

void print_text(const Summary& s);
void print_json(const Summary& s);

// CPU seconds (user + system) this process used so far.
double process_cpu_seconds();

}  // namespace pulse::perf
