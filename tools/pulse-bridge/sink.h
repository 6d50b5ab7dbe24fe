#pragma once
// Where the bridge's messages go: one recovering pulse::Publisher with confirms on a thread of
// its own (AmqpSink), or standard output (DryRunSink, --dry-run). Both take batches from any
// thread and report each message's outcome once it is settled: confirmed (OK) or failed.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "client/options.h"

namespace pulse {
class Publisher;
}

namespace pulse::bridge {

struct Outgoing {
  std::string exchange;
  std::string routing_key;
  std::string body;  // the enveloped JSON, as sent
};

// outcomes[i] is messages[i]'s: OK once the broker confirmed it.
using BatchDone = std::function<void(std::vector<Status> outcomes)>;

// A settled batch in short: how many were confirmed, and the first failure (null: none).
struct Tally {
  size_t confirmed = 0;
  const Error* first_failure = nullptr;
};
Tally tally(const std::vector<Status>& outcomes);

class MessageSink {
 public:
  enum class Broker { kUnknown, kUp, kDown, kDryRun };
  virtual ~MessageSink() = default;
  // `done` runs once, on the sink's thread (or the caller's for DryRunSink).
  virtual void submit(std::vector<Outgoing> messages, BatchDone done) = 0;
  virtual Broker broker() const = 0;
  // Stops after the batches under way settled or failed (bounded by the publish deadline).
  virtual void stop() {}
};

std::string_view broker_name(MessageSink::Broker b);

// Prints each message as one JSON line on stdout: {"exchange","routing_key","body"} with the
// body parsed (the envelope as it would be sent); publishes nothing.
class DryRunSink : public MessageSink {
 public:
  void submit(std::vector<Outgoing> messages, BatchDone done) override;
  Broker broker() const override { return Broker::kDryRun; }

 private:
  std::mutex mu_;
};

struct AmqpSinkOptions {
  std::vector<client::ConnectionOptions> endpoints;
  std::chrono::milliseconds deadline{10000};
  bool declare_exchanges = true;
};

class AmqpSink : public MessageSink {
 public:
  explicit AmqpSink(AmqpSinkOptions options);
  ~AmqpSink() override;
  void start();
  void submit(std::vector<Outgoing> messages, BatchDone done) override;
  Broker broker() const override { return broker_.load(); }
  void stop() override;

 private:
  struct Batch {
    std::vector<Status> outcomes;
    size_t left = 0;
    BatchDone done;
  };
  struct Queued {
    std::vector<Outgoing> messages;
    BatchDone done;
  };
  void run();
  void settle(uint64_t ticket, const Status& st);

  AmqpSinkOptions options_;
  std::atomic<Broker> broker_{Broker::kUnknown};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<Queued> queue_;
  std::thread thread_;
  // The sink thread's own.
  std::unique_ptr<Publisher> publisher_;
  uint64_t next_batch_ = 0;
  std::map<uint64_t, Batch> batches_;
  std::map<uint64_t, std::pair<uint64_t, size_t>> tickets_;  // ticket -> (batch, index)
  bool failing_ = false;
};

}  // namespace pulse::bridge
