// pulse-bench-consumer: a pulse::Consumer that only counts, for bench/stream.py (how fast the
// Pulse layer itself consumes, without pulse-listen's formatting and output).
//
//   pulse-bench-consumer URI EXCHANGE TOPIC APPLABEL [PREFETCH]
//
// stderr: "ready <queue>" once consuming. stdout: "count <n>" at most every 100 ms while
// messages arrive, and once more at exit (SIGINT/SIGTERM).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "pulse/consumer.h"
#include "pulse/endpoints.h"

namespace {

std::atomic<pulse::Consumer*> g_consumer{nullptr};

void on_signal(int) {
  if (pulse::Consumer* c = g_consumer.load()) c->stop();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s URI EXCHANGE TOPIC APPLABEL [PREFETCH]\n", argv[0]);
    return 2;
  }
  auto endpoints = pulse::parse_uri_list(argv[1]);
  if (!endpoints) {
    std::fprintf(stderr, "%s\n", endpoints.error().text.c_str());
    return 2;
  }
  pulse::ConsumerOptions o;
  o.recovery.endpoints = *endpoints;
  o.bindings = {{argv[2], argv[3]}};
  o.applabel = argv[4];
  if (argc > 5) o.prefetch = static_cast<uint16_t>(std::atoi(argv[5]));

  uint64_t count = 0;
  auto last = std::chrono::steady_clock::now();
  o.on_batch_end = [&] {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(100)) return;
    last = now;
    std::printf("count %llu\n", static_cast<unsigned long long>(count));
    std::fflush(stdout);
  };
  pulse::Consumer* self = nullptr;
  o.recovery.on_connected = [&](const pulse::client::ConnectionOptions&) {
    std::fprintf(stderr, "ready %s\n", self->queue_name().c_str());
  };
  pulse::Consumer consumer(std::move(o), [&](const pulse::Received&) {
    ++count;
    return pulse::ok_status();
  });
  self = &consumer;
  g_consumer.store(&consumer);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const pulse::Status s = consumer.run();
  g_consumer.store(nullptr);
  std::printf("count %llu\n", static_cast<unsigned long long>(count));
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().text.c_str());
    return 1;
  }
  return 0;
}
