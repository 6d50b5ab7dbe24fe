#pragma once
// The push engine (src/pulse/push) driven from an io_context: a timer calls Engine::poll when
// it asks, and a small pool of worker threads sends the engine's HTTP jobs with
// mgmt::HttpClient (blocking Boost.Beast, OpenSSL for https callbacks), posting each outcome
// back to the io_context. The same in pulsed (over the in-process broker) and pulse-guardian
// (over a RabbitMQ node); the caller gives the Source and the store.
//
// Thread: the engine, the timer and the Source run on the io_context's thread; only the HTTP
// exchanges run on the workers (at most `workers` at once, each bounded by `timeout`).
#include <chrono>
#include <memory>
#include <utility>  // Boost 1.74's asio uses std::exchange without including it (GCC 12)
// clang-format off
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
// clang-format on

#include "pulse/push/engine.h"

namespace pulse::push {

class PushHost : private Transport {
 public:
  // `source` and `store` must outlive the host.
  PushHost(boost::asio::io_context& io, Source& source, accounts::AccountStore& store,
           Settings settings);
  ~PushHost() override;

  // Reads the stored subscriptions and starts polling.
  Status start();
  // Held messages go back to their queues; jobs under way finish (bounded by the timeout) and
  // are forgotten. Idempotent.
  void stop();
  // Polls now (after the API changed something).
  void kick();

  Engine& engine() { return engine_; }

 private:
  void start(Job job) override;
  void arm(TimePoint due);

  boost::asio::io_context& io_;
  Settings settings_;
  Engine engine_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<boost::asio::thread_pool> pool_;
  // Outcomes posted after the host is gone must not touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
};

}  // namespace pulse::push
