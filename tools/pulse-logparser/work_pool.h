#pragma once
// The worker threads of pulse-logparser: each takes a job, fetches its log, parses it and
// leaves the summary for the main thread, which alone talks to the broker (the client
// library's objects are single-threaded). Jobs in flight are bounded by the consumer's
// prefetch (inputs stay unacked until their summary is confirmed).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fetch.h"
#include "log_parser.h"
#include "pulse/consumer.h"
#include "summary.h"

namespace pulse::logparser {

// `input` names the input message (its routing key and body) for the main thread, which may
// hold several deliveries of it (a redelivery after a reconnect, a message published twice).
struct Task {
  std::string input;
  Job job;
};

struct Done {
  std::string input;
  std::string routing_key;
  nlohmann::json payload;  // null: no verdict (stopped in a back-off): requeue the input
};

class WorkPool {
 public:
  WorkPool(unsigned threads, FetchOptions fetch, ParserOptions parser);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void submit(Task task);
  // The summaries finished since the last call.
  std::vector<Done> take_done();
  // Submitted and not yet taken.
  size_t outstanding() const;
  // Jobs not started are dropped (their inputs stay unacked: the broker delivers them again);
  // jobs under way finish first (a fetch is bounded by the fetch timeout), back-offs are cut.
  void stop();

 private:
  void work();
  bool sleep_for(std::chrono::milliseconds delay);

  FetchOptions fetch_;
  ParserOptions parser_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  std::vector<Done> done_;
  size_t outstanding_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The summary of one job: fetch, parse, summarise. Runs on a worker thread.
Done run_task(const Task& task, const FetchOptions& fetch, const ParserOptions& parser,
              const std::function<bool(std::chrono::milliseconds)>& sleep);

}  // namespace pulse::logparser
