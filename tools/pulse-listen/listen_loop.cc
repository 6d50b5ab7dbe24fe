#include "listen_loop.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "delivery_json.h"
#include "line_writer.h"

namespace pulse::tools {
namespace {

constexpr const char* kProgram = "pulse-listen";

std::atomic<bool> g_stop{false};
std::atomic<Consumer*> g_consumer{nullptr};

}  // namespace

void request_stop() {
  g_stop.store(true);
  if (Consumer* c = g_consumer.load()) c->stop();
}

int run_listen(const ListenArgs& a) {
  LineWriter out(STDOUT_FILENO);
  uint64_t printed = 0;
  std::unique_ptr<Consumer> consumer;

  ConsumerOptions options = consumer_options(a);
  // Lines are written after each read's deliveries (before the consumer waits again), when the
  // buffer fills, and before anything is said on stderr, so stderr follows the output it is
  // about.
  options.on_batch_end = [&] {
    if (!out.flush()) consumer->stop();
  };
  announce_recovery(options.recovery, kProgram, [&out] { out.flush(); });
  options.recovery.on_connected = [&consumer](const client::ConnectionOptions& endpoint) {
    say(kProgram, "listening on " + consumer->queue_name() + " (" + host_port(endpoint) + ")");
  };
  auto handler = [&](const Received& r) -> Status {
    if (a.raw) {
      append_delivery_raw(out.buffer(), r.raw);
    } else {
      append_delivery_json(out.buffer(), r.raw);
    }
    out.maybe_flush();
    if (out.failed()) {
      // The reader of stdout went away: stop, and refuse this message so that the broker
      // requeues it (stopping hands no further delivery to the handler).
      consumer->stop();
      return Error{0, "stdout is closed"};
    }
    // Stopping from the handler hands no further delivery to it (they go back to the queue).
    if (++printed == a.count) consumer->stop();
    return ok_status();
  };
  consumer = std::make_unique<Consumer>(std::move(options), handler);

  g_consumer.store(consumer.get());
  if (g_stop.load()) consumer->stop();  // a signal came before the consumer existed
  const Status status = consumer->run();
  g_consumer.store(nullptr);
  out.flush();
  if (!status) {
    say(kProgram, status.error().text);
    return kExitFailure;
  }
  if (out.failed()) {
    say(kProgram, std::string("stdout: ") + std::strerror(out.error()));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace pulse::tools
