// Listens to an exchange and prints each message's payload, one JSON line per message, until
// --count messages arrived or SIGINT/SIGTERM.
//   pulse-example-consumer [--uri URI] [--exchange X] [--topic T] [--applabel A] [--count N]
// Without --applabel the queue is queue/<user>/<uuid>, deleted when the consumer goes; with one
// it is the durable queue/<user>/<applabel> that keeps messages while the consumer is away.
#include <csignal>
#include <iostream>
#include <string>

#include "args.h"
#include "pulse/consumer.h"

namespace {

pulse::Consumer* g_consumer = nullptr;

extern "C" void on_signal(int) {
  if (g_consumer) g_consumer->stop();  // async-signal-safe: sets a flag
}

}  // namespace

int main(int argc, char** argv) {
  const char* kProgram = "pulse-example-consumer";
  auto args = examples::parse_args(argc, argv, kProgram, {"exchange", "topic", "applabel"}, 0,
                                   "[--uri URI] [--exchange X] [--topic T] [--applabel A] "
                                   "[--count N]   (--count 0: until stopped)");
  if (!args) return 2;
  const long count = args->count;

  pulse::ConsumerOptions options;
  options.recovery.endpoints = args->endpoints;
  options.bindings.push_back({args->exchange(), args->get("topic", "#")});
  options.applabel = args->get("applabel", "");
  options.durable = !options.applabel.empty();
  options.recovery.on_connected = [&](const pulse::client::ConnectionOptions& node) {
    std::cerr << "pulse-example-consumer: listening on " << g_consumer->queue_name() << " ("
              << node.host << ":" << node.port << ")" << std::endl;
  };
  options.recovery.on_disconnected = [](const pulse::Error& why) {
    std::cerr << "pulse-example-consumer: connection lost: " << why.text << "; reconnecting\n";
  };
  options.recovery.on_recovered = [](const pulse::client::ConnectionOptions& node) {
    // Re-declared, re-bound and consuming again; unacked messages come back redelivered.
    std::cerr << "pulse-example-consumer: recovered on " << node.host << ":" << node.port << "\n";
  };

  long seen = 0;
  pulse::Consumer consumer(options, [&](const pulse::Received& m) -> pulse::Status {
    if (m.envelope) {
      // mozillapulse-style messages carry _meta; Taskcluster's are the bare payload.
      std::cout << m.envelope->payload.dump() << std::endl;
    } else {
      std::cout << "(not JSON: " << m.parse_error << ") " << m.raw.body << std::endl;
    }
    if (count > 0 && ++seen >= count) g_consumer->stop();
    return {};  // OK: the message is acked. An error would requeue it for another try.
  });
  g_consumer = &consumer;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  auto st = consumer.run();
  g_consumer = nullptr;
  if (!st) {
    std::cerr << "pulse-example-consumer: " << st.error().text << "\n";
    return 1;
  }
  std::cerr << "pulse-example-consumer: " << consumer.stats().acked << " messages\n";
  return 0;
}
