#include "sink.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "cli.h"
#include "pulse/publisher.h"

namespace pulse::bridge {
namespace {

using std::chrono::milliseconds;

// How long one pump of the publisher may wait for the socket: the most a new batch waits to
// be sent, and how often the stop flag is looked at.
constexpr milliseconds kSlice{10};

}  // namespace

Tally tally(const std::vector<Status>& outcomes) {
  Tally t;
  for (const auto& o : outcomes) {
    if (o) {
      ++t.confirmed;
    } else if (!t.first_failure) {
      t.first_failure = &o.error();
    }
  }
  return t;
}

std::string_view broker_name(MessageSink::Broker b) {
  switch (b) {
    case MessageSink::Broker::kUnknown:
      return "connecting";
    case MessageSink::Broker::kUp:
      return "connected";
    case MessageSink::Broker::kDown:
      return "disconnected";
    case MessageSink::Broker::kDryRun:
      return "dry-run";
  }
  return "?";
}

void DryRunSink::submit(std::vector<Outgoing> messages, BatchDone done) {
  {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& m : messages) {
      nlohmann::json line = {{"exchange", m.exchange},
                             {"routing_key", m.routing_key},
                             {"body", nlohmann::json::parse(m.body, nullptr, false)}};
      out += line.dump() + "\n";
    }
    // One write per batch, so that lines of two threads never interleave.
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::write(STDOUT_FILENO, out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
  done(std::vector<Status>(messages.size()));
}

AmqpSink::AmqpSink(AmqpSinkOptions options) : options_(std::move(options)) {}

AmqpSink::~AmqpSink() {
  stop();
}

void AmqpSink::start() {
  thread_ = std::thread([this] { run(); });
}

void AmqpSink::submit(std::vector<Outgoing> messages, BatchDone done) {
  std::lock_guard lock(mu_);
  queue_.push_back({std::move(messages), std::move(done)});
}

void AmqpSink::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void AmqpSink::settle(uint64_t ticket, const Status& st) {
  auto t = tickets_.find(ticket);
  if (t == tickets_.end()) return;
  auto [batch_id, index] = t->second;
  tickets_.erase(t);
  auto b = batches_.find(batch_id);
  if (b == batches_.end()) return;
  b->second.outcomes[index] = st;
  if (--b->second.left == 0) {
    auto done = std::move(b->second.done);
    auto outcomes = std::move(b->second.outcomes);
    batches_.erase(b);
    done(std::move(outcomes));
  }
}

void AmqpSink::run() {
  PublisherOptions o;
  o.recovery.endpoints = options_.endpoints;
  for (auto& e : o.recovery.endpoints) {
    if (e.connection_name.empty()) e.connection_name = "pulse-bridge";
    // A connection attempt to a silent host holds this thread (and the batches queued
    // behind it): keep it short, the back-off retries.
    e.connect_timeout = std::min(e.connect_timeout, milliseconds{5000});
    e.handshake_timeout = milliseconds{5000};
  }
  o.deadline = options_.deadline;
  o.declare_exchanges = options_.declare_exchanges;
  o.recovery.on_connected = [this](const client::ConnectionOptions& e) {
    broker_ = Broker::kUp;
    failing_ = false;
    spdlog::info("bridge: event=connected broker={}", tools::host_port(e));
  };
  o.recovery.on_recovered = [this](const client::ConnectionOptions& e) {
    broker_ = Broker::kUp;
    failing_ = false;
    spdlog::info("bridge: event=reconnected broker={}", tools::host_port(e));
  };
  o.recovery.on_disconnected = [this](const Error& why) {
    broker_ = Broker::kDown;
    spdlog::warn("bridge: event=connection_lost reason=\"{}\"", why.text);
  };
  o.recovery.on_attempt_failed = [this](const client::ConnectionOptions& e, const Error& why) {
    broker_ = Broker::kDown;
    if (failing_) return;
    failing_ = true;
    spdlog::warn("bridge: event=cannot_connect broker={} reason=\"{}\" (retrying, logged once)",
                 tools::host_port(e), why.text);
  };
  publisher_ = std::make_unique<Publisher>(std::move(o));
  publisher_->on_outcome([this](uint64_t ticket, const Status& st) { settle(ticket, st); });

  for (;;) {
    std::deque<Queued> work;
    {
      std::lock_guard lock(mu_);
      work.swap(queue_);
    }
    for (auto& q : work) {
      const uint64_t id = next_batch_++;
      Batch& b = batches_[id];
      b.outcomes.resize(q.messages.size());
      b.left = q.messages.size();
      b.done = std::move(q.done);
      if (b.left == 0) {
        auto done = std::move(b.done);
        batches_.erase(id);
        done({});
        continue;
      }
      PublishOptions po;
      po.properties.set_content_type("application/json");
      po.properties.set_content_encoding("utf-8");
      for (size_t i = 0; i < q.messages.size(); ++i) {
        const Outgoing& m = q.messages[i];
        auto ticket = publisher_->send(m.exchange, m.routing_key, m.body, false, po);
        if (!ticket) {
          tickets_[UINT64_MAX - i] = {id, i};  // settled at once: a refusal before sending
          settle(UINT64_MAX - i, ticket.error());
          continue;
        }
        tickets_[*ticket] = {id, i};
      }
    }
    if (stop_) {
      bool queued;
      {
        std::lock_guard lock(mu_);
        queued = !queue_.empty();
      }
      if (batches_.empty() && !queued) break;
      // Let the messages under way settle: confirmed, or failed at their deadline.
      if (!queued) (void)publisher_->wait();
      continue;
    }
    publisher_->poll(kSlice);
  }
  publisher_->close();
  publisher_.reset();
}

}  // namespace pulse::bridge
