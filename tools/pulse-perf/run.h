#pragma once
// One load run: shared state between the main (reporting) thread and the producer and
// consumer threads, each of which owns one connection.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "client/channel.h"
#include "client/connection.h"
#include "perf_options.h"
#include "stats.h"
#include "summary.h"
#include "tracker.h"

namespace pulse::perf {

using Clock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM: stop producing, drain, report.
extern std::atomic<bool> g_interrupted;

struct ProducerState {
  Counter sent, confirmed, nacked, returned;
  uint32_t tag = 0;            // producer tag written into bodies
  std::string routing_key;     // where it publishes
  std::vector<size_t> queues;  // queues its messages reach
  // Written by the producer thread, read after it was joined.
  std::vector<std::pair<uint64_t, uint64_t>> nacked_ranges;
  uint64_t unconfirmed_at_end = 0;
  std::atomic<bool> done{false};
  Clock::time_point finished{};
};

struct ConsumerState {
  Counter received, foreign, last_receive_ns;
  Histogram latency;
  size_t queue = 0;
  std::atomic<bool> done{false};
};

struct Run {
  explicit Run(const PerfOptions& options) : o(options) {}
  const PerfOptions& o;
  std::string exchange;
  std::vector<std::string> queue_names;
  std::vector<bool> queue_created;                      // declared by this run: deleted at the end
  std::vector<std::unique_ptr<QueueTracker>> trackers;  // per queue; null = not verified
  std::vector<std::unique_ptr<ProducerState>> producers;
  std::vector<std::unique_ptr<ConsumerState>> consumers;
  bool exchange_created = false;
  uint32_t tag_base = 0;
  Clock::time_point t0 = Clock::now();  // body timestamps count from here

  std::atomic<bool> go{false}, stop_producers{false}, stop_consumers{false}, abort{false};
  std::atomic<int> ready{0};

  std::mutex mu;
  std::vector<std::string> errors;
  void fail(std::string what) {
    std::lock_guard lock(mu);
    errors.push_back(std::move(what));
    abort = true;
  }
  uint32_t now_us() const {
    return static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  }
  uint64_t now_ns() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
};

Result<std::unique_ptr<client::Connection>> connect(const PerfOptions& o, const std::string& name);

// topology.cc: exchange, queues and bindings before the run, cleanup after it.
Status setup_topology(Run& run);
void cleanup_topology(Run& run);

// load.cc: the thread bodies.
void producer_main(Run& run, size_t index);
void consumer_main(Run& run, size_t index);

// run.cc
int run_load(const PerfOptions& o);
// churn.cc
int run_churn(const PerfOptions& o);

}  // namespace pulse::perf
