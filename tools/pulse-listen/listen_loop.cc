#include "listen_loop.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "delivery_json.h"
#include "line_writer.h"

namespace pulse::tools {
namespace {

constexpr const char* kProgram = "pulse-listen";

std::atomic<bool> g_stop{false};
std::atomic<Consumer*> g_consumer{nullptr};

// Flushes the writer every `period`, so that a message is printed promptly even when no more
// follow it; while messages stream, full buffers are written by the handler itself.
class FlushTimer {
 public:
  FlushTimer(LineWriter& out, std::chrono::milliseconds period)
      : thread_([this, &out, period] {
          // Signals go to the consuming thread, whose wait they cut short.
          sigset_t signals;
          sigemptyset(&signals);
          sigaddset(&signals, SIGINT);
          sigaddset(&signals, SIGTERM);
          pthread_sigmask(SIG_BLOCK, &signals, nullptr);
          std::unique_lock lock(mu_);
          while (!done_) {
            cv_.wait_for(lock, period, [this] { return done_; });
            lock.unlock();
            out.flush();
            lock.lock();
          }
        }) {}
  ~FlushTimer() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

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
  announce_recovery(options.recovery, kProgram, [&out] { out.flush(); });
  options.recovery.on_connected = [&consumer](const client::ConnectionOptions& endpoint) {
    say(kProgram, "listening on " + consumer->queue_name() + " (" + host_port(endpoint) + ")");
  };
  auto handler = [&](const Received& r) -> Status {
    // Past --count (deliveries already in flight when it was reached) or with stdout gone:
    // refused, so the broker requeues the message for another listener.
    if (a.count > 0 && printed >= a.count) return Error{0, "past --count"};
    if (out.failed()) return Error{0, "stdout is closed"};
    out.append([&](std::string& buf) {
      if (a.raw) {
        append_delivery_raw(buf, r.raw);
      } else {
        append_delivery_json(buf, r.raw);
      }
    });
    if (++printed == a.count) consumer->stop();
    return ok_status();
  };
  consumer = std::make_unique<Consumer>(std::move(options), handler);

  g_consumer.store(consumer.get());
  if (g_stop.load()) consumer->stop();  // a signal came before the consumer existed
  Status status;
  {
    FlushTimer timer(out, std::chrono::milliseconds(20));
    status = consumer->run();
  }
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
