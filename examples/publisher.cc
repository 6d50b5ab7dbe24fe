// Publishes a few messages in the Pulse envelope and waits for each to be confirmed.
//   pulse-example-publisher [--uri URI] [--exchange X] [--routing-key K] [--count N]
// The exchange defaults to exchange/<user>/examples (a Pulse user may create exchanges only in
// its own namespace); it is declared durable topic before the first publish.
#include <iostream>
#include <string>

#include "args.h"
#include "pulse/publisher.h"

int main(int argc, char** argv) {
  const char* kProgram = "pulse-example-publisher";
  auto args = examples::parse_args(argc, argv, kProgram, {"exchange", "routing-key"}, 3,
                                   "[--uri URI] [--exchange X] [--routing-key K] [--count N]");
  if (!args) return 2;
  const std::string exchange = args->exchange();
  const std::string routing_key = args->get("routing-key", "example.hello");
  const long count = args->count;

  pulse::PublisherOptions options;
  options.recovery.endpoints = args->endpoints;
  // The publisher reconnects by itself; the hooks only tell the user.
  options.recovery.on_disconnected = [](const pulse::Error& why) {
    std::cerr << "pulse-example-publisher: connection lost: " << why.text << "; reconnecting\n";
  };
  options.recovery.on_recovered = [](const pulse::client::ConnectionOptions& node) {
    std::cerr << "pulse-example-publisher: recovered on " << node.host << ":" << node.port << "\n";
  };
  pulse::Publisher publisher(options);

  for (long i = 1; i <= count; ++i) {
    const nlohmann::json payload = {{"n", i}, {"of", count}, {"text", "hello from Pulse"}};
    // Returns once the broker confirmed the message (or after the 12 s deadline with an error).
    if (auto st = publisher.publish(exchange, routing_key, payload); !st) {
      std::cerr << "pulse-example-publisher: message " << i << ": " << st.error().text << "\n";
      return 1;
    }
    std::cout << "confirmed " << i << "/" << count << " on " << exchange << " (" << routing_key
              << ")" << std::endl;
  }
  publisher.close();
  return 0;
}
