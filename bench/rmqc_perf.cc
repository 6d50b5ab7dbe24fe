// pulse-bench-rmqc: a load generator on rabbitmq-c (Debian's librabbitmq), the way its users
// write one: amqp_basic_publish() once per message, amqp_consume_message() once per delivery.
// No pulse code at all, so what it measures is what a user's client gets from the broker.
//
// One producer thread and one consumer thread, each with its own connection, on one transient
// queue; 16 B (by default) transient messages carrying a sequence number and a send time.
// Saturated (--rate 0): the producer publishes as fast as it can, but stays at most --window
// messages ahead of the consumer (a broker without flow control would otherwise just queue).
// Paced (--rate R): publishes on an absolute schedule of R per second. The consumer checks the
// sequence (no loss, no duplicate, no reordering) and records each message's latency.
//
// Prints one JSON line: rates, the client's CPU per message (publisher and consumer threads
// separately), latency percentiles. Exit 1 on loss, duplicates or AMQP errors.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string user = "guest", pass = "guest", vhost = "/";
  std::string queue;
  size_t size = 16;
  double seconds = 8;
  double rate = 0;  // 0: as fast as possible
  uint64_t window = 20000;
  int consumers = 1;
};

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

double thread_cpu_s() {
  rusage r{};
  getrusage(RUSAGE_THREAD, &r);
  return double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         double(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "pulse-bench-rmqc: %s: %s\n", what, detail.c_str());
  std::exit(1);
}

void check_reply(amqp_rpc_reply_t r, const char* what) {
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
    die(what, amqp_error_string2(r.library_error));
  die(what, "server closed the connection or channel");
}

amqp_connection_state_t open_connection(const Options& o) {
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t* s = amqp_tcp_socket_new(c);
  if (!s) die("socket", "amqp_tcp_socket_new failed");
  if (int rc = amqp_socket_open(s, o.host.c_str(), o.port); rc != AMQP_STATUS_OK)
    die("connect", amqp_error_string2(rc));
  check_reply(amqp_login(c, o.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, o.user.c_str(),
                         o.pass.c_str()),
              "login");
  amqp_channel_open(c, 1);
  check_reply(amqp_get_rpc_reply(c), "channel.open");
  return c;
}

void close_connection(amqp_connection_state_t c) {
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
}

struct Shared {
  std::atomic<uint64_t> sent{0}, received{0};
  std::atomic<bool> producing{true}, stop_consumer{false};
};

struct ProducerResult {
  uint64_t sent = 0;
  double elapsed = 0, cpu = 0;
};

struct ConsumerResult {
  uint64_t received = 0, duplicated = 0, reordered = 0, received_in_run = 0;
  double cpu = 0;
  std::vector<uint32_t> latency_us;
};

void produce(const Options& o, Shared& sh, ProducerResult& out) {
  amqp_connection_state_t c = open_connection(o);
  std::vector<char> body(std::max<size_t>(o.size, 16), 'x');
  amqp_bytes_t bytes{body.size(), body.data()};
  amqp_bytes_t key = amqp_cstring_bytes(o.queue.c_str());
  const double cpu0 = thread_cpu_s();
  const uint64_t t0 = now_ns(), end = t0 + uint64_t(o.seconds * 1e9);
  const double interval_ns = o.rate > 0 ? 1e9 / o.rate : 0;
  uint64_t n = 0, t = t0;
  while (true) {
    if (interval_ns > 0) {
      const uint64_t due = t0 + uint64_t(double(n) * interval_ns);
      if (due >= end) break;
      t = now_ns();
      if (due > t) {
        timespec ts{time_t(due / 1000000000u), long(due % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      }
    } else {
      if ((n & 63) == 0 && (t = now_ns()) >= end) break;
      while (o.consumers > 0 && n - sh.received.load(std::memory_order_relaxed) >= o.window) {
        timespec ts{0, 100000};
        nanosleep(&ts, nullptr);
      }
    }
    const uint64_t stamp = now_ns();
    std::memcpy(body.data(), &n, 8);
    std::memcpy(body.data() + 8, &stamp, 8);
    int rc = amqp_basic_publish(c, 1, amqp_empty_bytes, key, 0, 0, nullptr, bytes);
    if (rc != AMQP_STATUS_OK) die("basic.publish", amqp_error_string2(rc));
    ++n;
    sh.sent.store(n, std::memory_order_relaxed);
  }
  out.elapsed = double(now_ns() - t0) / 1e9;
  out.cpu = thread_cpu_s() - cpu0;
  out.sent = n;
  sh.producing = false;
  close_connection(c);
}

void consume(const Options& o, Shared& sh, ConsumerResult& out, std::atomic<bool>& ready) {
  amqp_connection_state_t c = open_connection(o);
  amqp_basic_consume(c, 1, amqp_cstring_bytes(o.queue.c_str()), amqp_empty_bytes, 0, 1, 0,
                     amqp_empty_table);
  check_reply(amqp_get_rpc_reply(c), "basic.consume");
  ready = true;
  const double cpu0 = thread_cpu_s();
  uint64_t expected = 0;
  const bool record_latency = o.rate > 0;
  if (record_latency) out.latency_us.reserve(size_t(o.rate * o.seconds) + 16);
  timeval poll_timeout{0, 100000};
  while (!sh.stop_consumer.load(std::memory_order_relaxed)) {
    amqp_envelope_t env;
    amqp_maybe_release_buffers(c);
    amqp_rpc_reply_t r = amqp_consume_message(c, &env, &poll_timeout, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
      continue;
    check_reply(r, "consume");
    uint64_t seq = 0, stamp = 0;
    if (env.message.body.len >= 16) {
      std::memcpy(&seq, env.message.body.bytes, 8);
      std::memcpy(&stamp, static_cast<char*>(env.message.body.bytes) + 8, 8);
    }
    if (record_latency) out.latency_us.push_back(uint32_t((now_ns() - stamp) / 1000));
    if (seq < expected) {
      ++out.duplicated;
    } else {
      if (seq > expected) ++out.reordered;
      expected = seq + 1;
    }
    amqp_destroy_envelope(&env);
    ++out.received;
    if (sh.producing.load(std::memory_order_relaxed)) out.received_in_run = out.received;
    sh.received.store(out.received, std::memory_order_relaxed);
  }
  out.cpu = thread_cpu_s() - cpu0;
  close_connection(c);
}

double percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(i), v.end());
  return v[i];
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("usage", a + " needs a value");
      return argv[++i];
    };
    if (a == "--host")
      o.host = next();
    else if (a == "--port")
      o.port = std::atoi(next().c_str());
    else if (a == "--user")
      o.user = next();
    else if (a == "--pass")
      o.pass = next();
    else if (a == "--vhost")
      o.vhost = next();
    else if (a == "--queue")
      o.queue = next();
    else if (a == "--size")
      o.size = size_t(std::atol(next().c_str()));
    else if (a == "--seconds")
      o.seconds = std::atof(next().c_str());
    else if (a == "--rate")
      o.rate = std::atof(next().c_str());
    else if (a == "--window")
      o.window = uint64_t(std::atoll(next().c_str()));
    else if (a == "--consumers")
      o.consumers = std::atoi(next().c_str());
    else
      die("usage", "unknown argument " + a +
                       " (--host --port --user --pass --vhost --queue --size --seconds --rate "
                       "--window --consumers)");
  }
  if (o.queue.empty()) o.queue = "bench.rmqc." + std::to_string(getpid());
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  amqp_connection_state_t setup = open_connection(o);
  amqp_queue_declare(setup, 1, amqp_cstring_bytes(o.queue.c_str()), 0, 0, 0, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(setup), "queue.declare");

  Shared sh;
  ProducerResult p;
  ConsumerResult cr;
  std::atomic<bool> ready{false};
  std::thread consumer([&] {
    if (o.consumers > 0)
      consume(o, sh, cr, ready);
    else
      ready = true;
  });
  while (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread producer([&] { produce(o, sh, p); });
  producer.join();
  const uint64_t drain_end = now_ns() + 10'000'000'000u;
  while (o.consumers > 0 && sh.received.load() < p.sent && now_ns() < drain_end)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  sh.stop_consumer = true;
  consumer.join();
  amqp_queue_delete(setup, 1, amqp_cstring_bytes(o.queue.c_str()), 0, 0);
  check_reply(amqp_get_rpc_reply(setup), "queue.delete");
  close_connection(setup);

  const uint64_t lost = p.sent > cr.received ? p.sent - cr.received : 0;
  const bool ok = lost == 0 && cr.duplicated == 0 && cr.reordered == 0;
  const double n = double(std::max<uint64_t>(cr.received, 1));
  std::printf("{\"ok\": %s, \"sent\": %" PRIu64 ", \"received\": %" PRIu64 ", \"lost\": %" PRIu64
              ", \"duplicated\": %" PRIu64 ", \"reordered\": %" PRIu64
              ", \"elapsed\": %.3f, \"sent_rate\": %.0f, \"received_rate\": %.0f"
              ", \"publisher_cpu_us_per_msg\": %.3f, \"consumer_cpu_us_per_msg\": %.3f"
              ", \"cpu_us_per_msg\": %.3f, \"client_cpu_percent\": %.1f",
              ok ? "true" : "false", p.sent, cr.received, lost, cr.duplicated, cr.reordered,
              p.elapsed, double(p.sent) / p.elapsed, double(cr.received_in_run) / p.elapsed,
              p.cpu * 1e6 / n, cr.cpu * 1e6 / n, (p.cpu + cr.cpu) * 1e6 / n,
              (p.cpu + cr.cpu) * 100 / p.elapsed);
  if (!cr.latency_us.empty())
    std::printf(", \"latency_us\": {\"p50\": %.0f, \"p99\": %.0f, \"p999\": %.0f, \"max\": %.0f}",
                percentile(cr.latency_us, 50), percentile(cr.latency_us, 99),
                percentile(cr.latency_us, 99.9), percentile(cr.latency_us, 100));
  std::printf("}\n");
  return ok ? 0 : 1;
}
