#pragma once
// Per-source counters and health, shared by the HTTP thread (which answers /health and
// /metrics and counts the webhooks) and the pollers' threads. The set of sources is fixed at
// start, so lookups need no lock; counters are atomics and the last error a locked string.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "bridge_config.h"
#include "sink.h"

namespace pulse::bridge {

struct SourceStats {
  std::string name;
  std::string type;
  std::string exchange;
  std::atomic<uint64_t> published{0};    // messages confirmed (printed, in a dry run)
  std::atomic<uint64_t> refused{0};      // requests answered 4xx (signature, token, body)
  std::atomic<uint64_t> errors{0};       // failed polls, messages the broker did not confirm
  std::atomic<uint64_t> polls{0};        // polls that got an answer they could use
  std::atomic<uint64_t> filtered{0};     // private Bugzilla data left out, events not published
  std::atomic<int64_t> last_success{0};  // epoch seconds; 0: never

  void success();
  void error(const std::string& what);
  nlohmann::json health() const;
  bool healthy() const;

 private:
  mutable std::mutex mu_;
  std::string last_error_;
  int64_t last_error_at_ = 0;
};

class StatsRegistry {
 public:
  SourceStats& add(const SourceConfig& s, const std::string& exchange);
  SourceStats* find(const std::string& name);
  // GET /health: every source, and the broker connection.
  nlohmann::json health(MessageSink::Broker broker) const;
  // GET /metrics: Prometheus text format 0.0.4.
  std::string metrics(MessageSink::Broker broker) const;

 private:
  std::map<std::string, std::unique_ptr<SourceStats>> sources_;
};

}  // namespace pulse::bridge
