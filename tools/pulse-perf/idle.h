#pragma once
// The connection-count and queue-count scenarios: N idle connections held open (heartbeats
// served by one thread) and N idle queues, alongside whatever load runs meanwhile.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "perf_options.h"

namespace pulse::perf {

class IdleConnections {
 public:
  ~IdleConnections() { stop(); }
  // Opens n connections (each with one channel) one after the other; the first failure stops.
  Status open(const PerfOptions& o, int n);
  double open_seconds() const { return open_s_; }
  int size() const { return static_cast<int>(conns_.size()); }
  // Stops the heartbeat thread, counts connections that died meanwhile, closes the rest.
  int close_all();
  void stop();

 private:
  std::vector<std::unique_ptr<client::Connection>> conns_;
  std::thread pumper_;
  std::atomic<bool> stop_{false};
  double open_s_ = 0;
};

class IdleQueues {
 public:
  Status declare(const PerfOptions& o, int n);
  double declare_seconds() const { return declare_s_; }
  Status remove(const PerfOptions& o);

 private:
  std::vector<std::string> names_;
  double declare_s_ = 0;
};

}  // namespace pulse::perf
